"""A small HTTP server on 127.0.0.1 that speaks the OpenAI chat/completions protocol.

Tests give it a `respond(kind, body) -> str` function that decides the answer text, so
judge verdicts, synthetic instructions and faults are scripted while the client under
test talks real HTTP. Every request is logged (`calls`) with whether it was answered.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[str, dict[str, Any]], str]


@dataclass
class Fault:
    """What to do instead of answering: an HTTP status (with Retry-After), a hang, bad JSON."""

    status: int | None = None
    retry_after: float | None = None
    hang_s: float | None = None
    malformed: bool = False


@dataclass
class Call:
    kind: str
    body: dict[str, Any]
    answered: bool
    fault: Fault | None = None
    headers: dict[str, str] = field(default_factory=dict)


class OpenAITestServer:
    """Run with `with OpenAITestServer(respond) as srv: srv.base_url`.

    `faults(call_index, kind, body) -> Fault | None` injects failures per call.
    `api_key`, when set, is enforced as a bearer token.
    """

    def __init__(
        self,
        respond: Responder,
        faults: Callable[[int, str, dict[str, Any]], Fault | None] | None = None,
        api_key: str | None = None,
        model: str = "test-model",
    ) -> None:
        self.respond = respond
        self.faults = faults
        self.api_key = api_key
        self.model = model
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def answered(self) -> list[Call]:
        return [c for c in self.calls if c.answered]

    def __enter__(self) -> OpenAITestServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    body = {"object": "list", "data": [{"id": server.model, "object": "model"}]}
                    self._send(200, json.dumps(body).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if server.api_key and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    self._send(401, b'{"error": {"message": "bad key"}}')
                    return
                kind = "chat" if self.path.endswith("/chat/completions") else "completion"
                with server._lock:
                    index = len(server.calls)
                    fault = server.faults(index, kind, body) if server.faults else None
                    call = Call(kind, body, answered=False, fault=fault,
                                headers={k.lower(): v for k, v in self.headers.items()})
                    server.calls.append(call)
                if fault is not None:
                    if fault.hang_s:
                        time.sleep(fault.hang_s)
                        self._send(504, b'{"error": {"message": "too late"}}')
                        return
                    if fault.malformed:
                        self._send(200, b'{"choices": [{"message": ')
                        return
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                    self._send(fault.status or 500, b'{"error": {"message": "injected"}}', headers)
                    return
                text = server.respond(kind, body)
                if kind == "chat":
                    choice = {"index": 0, "message": {"role": "assistant", "content": text},
                              "finish_reason": "stop"}
                    obj = "chat.completion"
                else:
                    choice = {"index": 0, "text": text, "finish_reason": "stop"}
                    obj = "text_completion"
                payload = {
                    "id": f"cmpl-{index}", "object": obj, "created": int(time.time()),
                    "model": body.get("model", server.model), "choices": [choice],
                    "usage": {"prompt_tokens": 1, "completion_tokens": len(text),
                              "total_tokens": 1 + len(text)},
                }
                call.answered = True
                self._send(200, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


def last_user_text(body: dict[str, Any]) -> str:
    """The last user message (chat) or the prompt (completion) of a request body."""
    if "messages" in body:
        return next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
    return body.get("prompt", "")
