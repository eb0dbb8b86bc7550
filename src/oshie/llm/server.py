"""An OpenAI-compatible HTTP server for a local model (`oshie serve MODEL_DIR`).

`/v1/models`, `/v1/chat/completions` and `/v1/completions` with usage and finish_reason;
`n`, `max_tokens`, `temperature`, `top_p`, `stop` and `seed` are honoured, so a tuned model
can be judged, compared or used for synthesis exactly like a vLLM endpoint. Concurrent
HTTP requests are gathered into shared batches for `LocalLLM`. With `stream: true` the
whole answer arrives as one chunk (server-sent events), as generation is not incremental.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from oshie.errors import LLMError, require
from oshie.llm.base import Generation, LLMRequest
from oshie.llm.http_guard import MAX_BODY_BYTES, bind, header_timeout_protocol, read_body
from oshie.llm.openai_request import BadRequest, parse_body, parse_request

log = logging.getLogger("oshie.llm.server")

LOOPBACK = ("127.0.0.1", "localhost", "::1")
__all__ = ["LOOPBACK", "BadRequest", "create_app", "serve"]


class _Batcher:
    """Gathers requests arriving within a few milliseconds into one `generate` call.

    Each HTTP request is an item; when a shared batch fails, every item is generated again
    alone, so a request that breaks generation fails by itself and the others still get
    their answers. Items whose client has gone (future cancelled) are skipped."""

    def __init__(self, llm: Any, max_batch: int, window_s: float = 0.01) -> None:
        self.llm = llm
        self.max_batch = max(1, max_batch)
        self.window_s = window_s
        self.queue: asyncio.Queue[tuple[list[LLMRequest], asyncio.Future]] = asyncio.Queue()

    async def submit(self, requests: list[LLMRequest]) -> list[Generation]:
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        await self.queue.put((requests, future))
        return await future

    async def run(self) -> None:
        while True:
            items = [await self.queue.get()]
            size = len(items[0][0])
            while size < self.max_batch:
                try:
                    item = await asyncio.wait_for(self.queue.get(), self.window_s)
                except TimeoutError:
                    break
                items.append(item)
                size += len(item[0])
            items = [(reqs, fut) for reqs, fut in items if not fut.done()]
            if items:
                await self._generate(items)

    async def _generate(self, items: list[tuple[list[LLMRequest], asyncio.Future]]) -> None:
        flat = [r for reqs, _ in items for r in reqs]
        try:
            gens = await self.llm.agenerate(flat)
        except Exception as exc:
            if len(items) == 1:
                _settle(items[0][1], exc=exc)
            else:  # find the culprit: each request on its own
                for item in items:
                    await self._generate([item])
            return
        start = 0
        for reqs, fut in items:
            _settle(fut, result=gens[start : start + len(reqs)])
            start += len(reqs)


def _settle(fut: asyncio.Future, result: Any = None, exc: BaseException | None = None) -> None:
    if fut.done():  # the client disconnected meanwhile
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


def _error(
    status: int, message: str, kind: str = "invalid_request_error", code: str | None = None
) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": code}},
        status_code=status,
    )


def create_app(
    llm: Any,
    model_name: str,
    api_key: str | None = None,
    batch_window_s: float = 0.01,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Any:
    """A Starlette app serving `llm` (a LocalLLM or any LLM with `agenerate`)."""
    require("starlette", "serve")
    from starlette.applications import Starlette
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    max_positions = getattr(llm, "max_positions", None) or 4096
    fingerprint = getattr(llm, "fingerprint", None)
    batcher = _Batcher(llm, getattr(llm, "batch_size", 8), batch_window_s)
    check = getattr(llm, "check_fits", None)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        worker = asyncio.create_task(batcher.run())
        try:
            yield
        finally:
            worker.cancel()

    def authorised(request: Request) -> bool:
        if not api_key:
            return True
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {api_key}".encode())

    async def requests_of(kind: str, request: Request) -> tuple[dict[str, Any], list[LLMRequest]]:
        raw = await read_body(request, max_body_bytes)
        # big bodies are parsed and tokenised in a thread: /health stays responsive
        if len(raw) > 1 << 16:
            body = await asyncio.to_thread(parse_body, raw)
        else:
            body = parse_body(raw)
        reqs = parse_request(kind, body, max_positions)
        if check is not None:  # one check per distinct prompt
            await asyncio.to_thread(lambda: [check(r) for r in reqs if r.sample_index == 0])
        return body, reqs

    def handler(kind: str) -> Callable:
        async def endpoint(request: Request) -> Any:
            if not authorised(request):
                return _error(
                    401,
                    "invalid or missing API key (send 'Authorization: Bearer <key>')",
                    code="invalid_api_key",
                )
            try:
                body, reqs = await requests_of(kind, request)
                gens = await batcher.submit(reqs)
            except BadRequest as exc:
                return _error(exc.status, str(exc))
            except LLMError as exc:
                return _error(400, exc.message)
            except ClientDisconnect:  # nobody is left to answer
                log.debug("client disconnected before its request was read")
                return _error(400, "client disconnected")
            except Exception as exc:  # a generation failure: answer in the API's shape
                log.exception("generation failed")
                return _error(
                    500, f"generation failed: {type(exc).__name__}: {exc}", kind="server_error"
                )
            payload = _payload(kind, model_name, gens, reqs, fingerprint)
            if body.get("stream"):
                return StreamingResponse(_stream(kind, payload), media_type="text/event-stream")
            return JSONResponse(payload)

        return endpoint

    async def models(request: Request) -> Any:
        if not authorised(request):
            return _error(401, "invalid or missing API key", code="invalid_api_key")
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {
                        "id": model_name,
                        "object": "model",
                        "created": int(time.time()),
                        "owned_by": "oshie",
                        "fingerprint": fingerprint,
                    }
                ],
            }
        )

    async def health(request: Request) -> Any:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", handler("chat"), methods=["POST"]),
            Route("/v1/completions", handler("completion"), methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _payload(
    kind: str,
    model_name: str,
    gens: list[Generation],
    reqs: list[LLMRequest],
    fingerprint: str | None = None,
) -> dict[str, Any]:
    # prompt tokens are counted once per distinct prompt, as the OpenAI API does with n > 1
    prompt_tokens = sum(
        g.usage.prompt_tokens for g, r in zip(gens, reqs, strict=True) if r.sample_index == 0
    )
    completion_tokens = sum(g.usage.completion_tokens for g in gens)
    choices = []
    for i, g in enumerate(gens):
        if kind == "chat":
            choices.append(
                {
                    "index": i,
                    "message": {"role": "assistant", "content": g.text},
                    "finish_reason": g.finish_reason,
                    "logprobs": None,
                }
            )
        else:
            choices.append(
                {"index": i, "text": g.text, "finish_reason": g.finish_reason, "logprobs": None}
            )
    return {
        "id": ("chatcmpl-" if kind == "chat" else "cmpl-") + uuid.uuid4().hex[:24],
        "object": "chat.completion" if kind == "chat" else "text_completion",
        "created": int(time.time()),
        "model": model_name,
        "system_fingerprint": fingerprint,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


async def _stream(kind: str, payload: dict[str, Any]) -> AsyncIterator[str]:
    obj = "chat.completion.chunk" if kind == "chat" else "text_completion"
    base = {
        "id": payload["id"],
        "object": obj,
        "created": payload["created"],
        "model": payload["model"],
    }
    for c in payload["choices"]:
        if kind == "chat":
            first = {
                "index": c["index"],
                "finish_reason": None,
                "delta": {"role": "assistant", "content": c["message"]["content"]},
            }
            last = {"index": c["index"], "delta": {}, "finish_reason": c["finish_reason"]}
        else:
            first = {"index": c["index"], "text": c["text"], "finish_reason": None}
            last = {"index": c["index"], "text": "", "finish_reason": c["finish_reason"]}
        for choice in (first, last):
            yield f"data: {json.dumps({**base, 'choices': [choice]}, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def serve(
    model_dir: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    api_key: str | None = None,
    model_name: str | None = None,
    batch_size: int = 8,
    device: str = "auto",
    on_ready: Callable[[str], None] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    on_bound: Callable[[], None] | None = None,
) -> None:
    """Bind the port (a port in use fails here, before anything loads), load `model_dir`,
    then serve it until interrupted. `on_bound` runs once the port is held (before the
    model loads), `on_ready` with the URL once the model is loaded."""
    uvicorn = require("uvicorn", "serve")
    from oshie.llm.local import LocalLLM

    sock = bind(host, port)
    try:
        if on_bound is not None:
            on_bound()
        llm = LocalLLM(model_dir, batch_size=batch_size, device=device, model_name=model_name)
        app = create_app(llm.load(), llm.model, api_key=api_key, max_body_bytes=max_body_bytes)
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            http=header_timeout_protocol(),
            timeout_keep_alive=5,
            limit_concurrency=1024,
        )
        if on_ready is not None:
            bound = sock.getsockname()[1]
            on_ready(f"http://{host if ':' not in host else f'[{host}]'}:{bound}/v1")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
