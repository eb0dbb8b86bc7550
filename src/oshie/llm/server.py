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
from oshie.llm.base import Generation, GenerationParams, LLMRequest

log = logging.getLogger("oshie.llm.server")

MAX_N = 16
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class BadRequest(Exception):
    """The client sent something this server cannot do; becomes HTTP 400."""


class _Batcher:
    """Gathers requests arriving within a few milliseconds into one `generate` call."""

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
            flat = [r for reqs, _ in items for r in reqs]
            try:
                gens = await self.llm.agenerate(flat)
            except Exception as exc:  # every waiting request learns of the failure
                for _, fut in items:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            start = 0
            for reqs, fut in items:
                if not fut.done():
                    fut.set_result(gens[start : start + len(reqs)])
                start += len(reqs)


def _error(
    status: int, message: str, kind: str = "invalid_request_error", code: str | None = None
) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": code}},
        status_code=status,
    )


def _number(
    body: dict[str, Any],
    name: str,
    default: Any,
    cast: Callable = float,
    lo: float | None = None,
    hi: float | None = None,
) -> Any:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"'{name}' must be a number")
    value = cast(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise BadRequest(f"'{name}' must be between {lo} and {hi}")
    return value


def sampling_params(body: dict[str, Any], default_max_tokens: int) -> tuple[GenerationParams, int]:
    """GenerationParams and `n` from an OpenAI request body (400 on bad values)."""
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise BadRequest("'stop' must be a string or a list of strings")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    params = GenerationParams(
        max_tokens=_number({"max_tokens": max_tokens}, "max_tokens", default_max_tokens, int, 1),
        temperature=_number(body, "temperature", 1.0, float, 0.0, 2.0),
        top_p=_number(body, "top_p", 1.0, float, 0.0, 1.0),
        stop=stop or None,
        seed=_number(body, "seed", None, int),
    )
    return params, _number(body, "n", 1, int, 1, MAX_N)


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        parts = [
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        ]
        if len(parts) == len(content):
            return "".join(parts)
    raise BadRequest("message content must be a string or a list of text parts")


def chat_messages(body: dict[str, Any]) -> list[dict[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in (
            "system",
            "user",
            "assistant",
            "developer",
        ):
            raise BadRequest(f"messages[{i}] needs a role of system, user or assistant")
        role = "system" if m["role"] == "developer" else m["role"]
        out.append({"role": role, "content": _message_text(m.get("content") or "")})
    return out


def create_app(
    llm: Any, model_name: str, api_key: str | None = None, batch_window_s: float = 0.01
) -> Any:
    """A Starlette app serving `llm` (a LocalLLM or any LLM with `agenerate`)."""
    require("starlette", "serve")
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    max_positions = getattr(llm, "max_positions", None) or 4096
    batcher = _Batcher(llm, getattr(llm, "batch_size", 8), batch_window_s)

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

    async def read_body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise BadRequest("the request body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        if body.get("logprobs") or body.get("echo") or body.get("best_of", 1) not in (1, None):
            raise BadRequest("logprobs, echo and best_of are not supported by oshie serve")
        return body

    def handler(kind: str) -> Callable:
        async def endpoint(request: Request) -> Any:
            if not authorised(request):
                return _error(
                    401,
                    "invalid or missing API key (send 'Authorization: Bearer <key>')",
                    code="invalid_api_key",
                )
            try:
                body = await read_body(request)
                if kind == "chat":
                    params, n = sampling_params(body, max_positions)
                    messages = chat_messages(body)
                    prompts: list[dict[str, Any]] = [{"messages": messages}]
                else:
                    params, n = sampling_params(body, 16)
                    raw = body.get("prompt")
                    raw = [raw] if isinstance(raw, str) else raw
                    if (
                        not isinstance(raw, list)
                        or not raw
                        or not all(isinstance(p, str) for p in raw)
                    ):
                        raise BadRequest("'prompt' must be a string or a list of strings")
                    prompts = [{"prompt": p} for p in raw]
                reqs = [
                    LLMRequest(**p, params=params, sample_index=j)
                    for p in prompts
                    for j in range(n)
                ]
                check = getattr(llm, "check_fits", None)
                if check is not None:
                    for req in reqs[::n]:  # one check per distinct prompt
                        check(req)
                gens = await batcher.submit(reqs)
            except BadRequest as exc:
                return _error(400, str(exc))
            except LLMError as exc:
                return _error(400, exc.message)
            except Exception as exc:  # a generation failure: answer in the API's shape
                log.exception("generation failed")
                return _error(
                    500, f"generation failed: {type(exc).__name__}: {exc}", kind="server_error"
                )
            payload = _payload(kind, model_name, gens, reqs)
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
    kind: str, model_name: str, gens: list[Generation], reqs: list[LLMRequest]
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
    device: str = "cpu",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Load `model_dir` and serve it until interrupted."""
    uvicorn = require("uvicorn", "serve")
    from oshie.llm.local import LocalLLM

    llm = LocalLLM(model_dir, batch_size=batch_size, device=device, model_name=model_name).load()
    app = create_app(llm, llm.model, api_key=api_key)
    if on_ready is not None:
        on_ready(f"http://{host if ':' not in host else f'[{host}]'}:{port}/v1")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
