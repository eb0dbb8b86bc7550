"""The one validation layer of `oshie serve`: an OpenAI request body becomes `LLMRequest`s or a
`BadRequest` (HTTP 400) whose message names the field and the allowed values.

Everything a client controls is checked before it can reach a shared batch, so one bad
request never fails the others generated with it: JSON that is not strict JSON (`NaN`,
`Infinity`, too deep), numbers that are not finite or out of range (`temperature`, `top_p`,
`max_tokens`, `seed`, `n`), more completions than one request may ask for (prompts x n),
text with lone surrogates (it cannot be tokenised or encoded as UTF-8), and empty
completion prompts. The byte-size limit is the server's job (it sees the stream).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import ValidationError

from oshie.llm.base import SEED_MAX, SEED_MIN, GenerationParams, LLMRequest

MAX_CHOICES = 16  # completions per HTTP request, counting every prompt of a list times n
MAX_DEPTH = 64  # nesting of JSON arrays/objects in a body (a chat needs 4)
MAX_TOKENS_CAP = 1 << 20
ROLES = ("system", "user", "assistant", "developer")
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadRequest(Exception):
    """The client sent something this server cannot do; becomes HTTP 400 (or `status`)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _no_constant(name: str) -> Any:
    raise BadRequest(f"the request body is not valid JSON: {name} is not a JSON number")


def _depth(value: Any) -> int:
    """Nesting depth, walked iteratively (a recursive walk could itself overflow)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def parse_body(raw: bytes) -> dict[str, Any]:
    """Strict JSON object: no NaN/Infinity, no numbers that overflow to infinity, bounded depth."""
    try:
        text = raw.decode("utf-8") if raw else "{}"
        body = json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise BadRequest("the request body is not UTF-8") from exc
    except RecursionError as exc:
        raise BadRequest("the request body nests too deeply") from exc
    except ValueError as exc:
        raise BadRequest(f"the request body is not valid JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    if _depth(body) > MAX_DEPTH:
        raise BadRequest(f"the request body nests deeper than {MAX_DEPTH} levels")
    if body.get("logprobs") or body.get("echo") or body.get("best_of", 1) not in (1, None):
        raise BadRequest("logprobs, echo and best_of are not supported by oshie serve")
    return body


def _int(body: dict[str, Any], name: str, default: int | None, lo: int, hi: int) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'{name}' must be an integer from {lo} to {hi}")
    if not lo <= value <= hi:
        raise BadRequest(f"'{name}' must be an integer from {lo} to {hi}, not {value}")
    return value


def _float(body: dict[str, Any], name: str, default: float, lo: float, hi: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"'{name}' must be a number from {lo} to {hi}")
    value = float(value)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise BadRequest(f"'{name}' must be a finite number from {lo} to {hi}, not {value}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{where} must be a string")
    if _SURROGATE.search(value):
        raise BadRequest(f"{where} contains a lone surrogate (\\ud800-\\udfff): not valid Unicode")
    return value


def sampling_params(body: dict[str, Any], default_max_tokens: int) -> tuple[GenerationParams, int]:
    """GenerationParams and `n` from an OpenAI request body (BadRequest on bad values)."""
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None:
        if not isinstance(stop, list) or len(stop) > 16:
            raise BadRequest("'stop' must be a string or a list of at most 16 strings")
        stop = [_text(s, f"stop[{i}]") for i, s in enumerate(stop)]
    given = body.get("max_completion_tokens", body.get("max_tokens"))
    max_tokens = _int({"max_tokens": given}, "max_tokens", default_max_tokens, 1, MAX_TOKENS_CAP)
    try:
        params = GenerationParams(
            max_tokens=max_tokens,
            temperature=_float(body, "temperature", 1.0, 0.0, 2.0),
            top_p=_float(body, "top_p", 1.0, 0.0, 1.0),
            stop=stop or None,
            seed=_int(body, "seed", None, SEED_MIN, SEED_MAX),
        )
    except ValidationError as exc:  # a bound of GenerationParams itself
        err = exc.errors()[0]
        raise BadRequest(f"'{'.'.join(map(str, err['loc']))}': {err['msg']}") from exc
    n = _int(body, "n", 1, 1, MAX_CHOICES)
    assert n is not None
    return params, n


def _message_text(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return _text(content, where)
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        parts = [p for p in content if isinstance(p, dict) and p.get("type") == "text"]
        if len(parts) == len(content):
            return "".join(_text(p.get("text", ""), f"{where}[{i}].text") for i, p in enumerate(parts))
    raise BadRequest(f"{where} must be a string or a list of text parts")


def chat_messages(body: dict[str, Any]) -> list[dict[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise BadRequest(f"messages[{i}] needs a role of system, user or assistant")
        role = "system" if m["role"] == "developer" else m["role"]
        out.append({"role": role, "content": _message_text(m.get("content"), f"messages[{i}].content")})
    return out


def completion_prompts(body: dict[str, Any]) -> list[str]:
    raw = body.get("prompt")
    prompts = [raw] if isinstance(raw, str) else raw
    if not isinstance(prompts, list) or not prompts:
        raise BadRequest("'prompt' must be a string or a non-empty list of strings")
    if len(prompts) > MAX_CHOICES:
        raise BadRequest(f"'prompt' lists {len(prompts)} prompts; at most {MAX_CHOICES} per request")
    out = []
    for i, p in enumerate(prompts):
        text = _text(p, f"prompt[{i}]" if isinstance(raw, list) else "'prompt'")
        if not text:
            raise BadRequest("'prompt' must not be empty: give the text to continue")
        out.append(text)
    return out


def parse_request(kind: str, body: dict[str, Any], max_positions: int) -> list[LLMRequest]:
    """The requests one HTTP body asks for: each prompt (or the chat) times `n` samples."""
    if kind == "chat":
        params, n = sampling_params(body, max_positions)
        prompts: list[dict[str, Any]] = [{"messages": chat_messages(body)}]
    else:
        params, n = sampling_params(body, 16)
        prompts = [{"prompt": p} for p in completion_prompts(body)]
    if len(prompts) * n > MAX_CHOICES:
        raise BadRequest(
            f"{len(prompts)} prompts x n={n} asks for {len(prompts) * n} completions; "
            f"at most {MAX_CHOICES} per request"
        )
    return [LLMRequest(**p, params=params, sample_index=j) for p in prompts for j in range(n)]
