"""OpenAI-compatible HTTP backend (vLLM, llama.cpp server, Ollama, OpenAI) over async httpx.

Every transient failure is retried with exponential backoff and jitter: 408/409/429/5xx,
timeouts, connection errors and malformed JSON. A `Retry-After` header wins over the
computed backoff. After the last retry an `LLMError` names the URL and the last status.
The API key is read from the environment variable the config names and only ever
goes into the Authorization header: never into errors, logs, reprs or the cache. A
user:password written into the URL is sent as HTTP basic auth and shown as `***` wherever
the URL appears (`oshie.runs.redact_url`).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import os
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from oshie.errors import LLMError, UsageError
from oshie.llm.base import LLM, Generation, LLMRequest, Usage
from oshie.runs import redact_url

log = logging.getLogger("oshie.llm")

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class _Retryable(Exception):
    """A failure worth another attempt; `wait` is the server's Retry-After, if any."""

    def __init__(self, reason: str, status: int | None = None, wait: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.wait = wait


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(
    attempt: int,
    base: float,
    cap: float,
    retry_after: float | None = None,
    max_retry_after: float = 300.0,
) -> float:
    """Full-jitter exponential backoff; a server's Retry-After (capped) takes precedence."""
    if retry_after is not None:
        return min(retry_after, max_retry_after)
    return random.uniform(0, min(cap, base * (2**attempt)))


class OpenAICompatLLM(LLM):
    """Chat (`/chat/completions`) and raw completions (`/completions`) over HTTP.

    `base_url` ends with the API version, e.g. `http://127.0.0.1:8000/v1`. The key is
    taken from the environment variable `api_key_env` (no key is sent if it is unset,
    as local vLLM/llama.cpp servers need none).
    """

    backend = "openai"

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        model: str = "",
        api_key_env: str | None = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout: float = 60.0,
        max_retries: int = 6,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        max_retry_after: float = 300.0,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(model=model, concurrency=concurrency)
        self._url, self._auth, self._url_secrets = _split_credentials(base_url.rstrip("/"))
        self.base_url = redact_url(self._url)  # what errors, logs and manifests show
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.extra_body = dict(extra_body or {})
        self._api_key = os.environ.get(api_key_env) if api_key_env else None
        self._client: httpx.AsyncClient | None = None
        self._client_users = 0
        self._served_fingerprint: str | None = None
        self._probed = False

    def __repr__(self) -> str:
        return f"OpenAICompatLLM(base_url={self.base_url!r}, model={self.model!r})"

    def identity(self) -> dict[str, Any]:
        """Backend, model name, endpoint (without credentials) and, when the server reports
        one (`oshie serve` does), the model's fingerprint: two models served under one name
        or one URL never share cache entries. Vendor options change answers too."""
        ident = super().identity()
        ident["endpoint"] = self.base_url
        if self._served_fingerprint:
            ident["fingerprint"] = self._served_fingerprint
        if self.extra_body:
            ident["extra_body"] = self.extra_body
        return ident

    async def prepare(self) -> None:
        """Ask the server once (GET /models) for the fingerprint of the model it serves."""
        if self._probed:
            return
        self._probed = True
        try:
            async with httpx.AsyncClient(
                headers=self._headers(), auth=self._auth, timeout=min(self.timeout, 10.0)
            ) as client:
                resp = await client.get(self._url + "/models")
            models = resp.json().get("data") if resp.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            models = None
        if not isinstance(models, list):
            return
        entries = [m for m in models if isinstance(m, dict)]
        named = [m for m in entries if m.get("id") == self.model] or (
            entries if len(entries) == 1 else []
        )
        fingerprint = named[0].get("fingerprint") if named else None
        if isinstance(fingerprint, str) and fingerprint:
            self._served_fingerprint = fingerprint

    # -- HTTP plumbing -------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _scrub(self, text: str) -> str:
        """Remove the key and URL credentials from any text we are about to show (a server
        may echo them)."""
        for secret in (self._api_key, *self._url_secrets):
            if secret and secret in text:
                text = text.replace(secret, "***")
        return redact_url(text)

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[None]:
        # One client per event loop, shared by overlapping batches on that loop and
        # closed when the last one finishes (`generate` runs each batch in a new loop).
        if self._client is None:
            self._client = httpx.AsyncClient(
                headers=self._headers(),
                auth=self._auth,
                # no pool timeout: the semaphore already bounds requests in flight
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0), pool=None),
                limits=httpx.Limits(
                    max_connections=self.concurrency, max_keepalive_connections=self.concurrency
                ),
            )
        self._client_users += 1
        try:
            yield
        finally:
            self._client_users -= 1
            if self._client_users == 0 and self._client is not None:
                client, self._client = self._client, None
                await client.aclose()

    def request_body(self, request: LLMRequest) -> dict[str, Any]:
        p = request.params
        body: dict[str, Any] = {"model": self.model, **self.extra_body}
        if request.kind == "chat":
            body["messages"] = request.messages
        else:
            body["prompt"] = request.prompt
        body.update(max_tokens=p.max_tokens, temperature=p.temperature, top_p=p.top_p)
        if p.stop:
            body["stop"] = p.stop
        seed = request.effective_seed()
        if seed is not None:
            body["seed"] = seed
        return body

    async def _agenerate_one(self, request: LLMRequest) -> Generation:
        path = "/chat/completions" if request.kind == "chat" else "/completions"
        url, shown = self._url + path, self.base_url + path
        body = self.request_body(request)
        last: _Retryable | None = None
        for attempt in range(self.max_retries + 1):
            if last is not None:
                delay = backoff_delay(
                    attempt - 1,
                    self.backoff_base,
                    self.backoff_max,
                    last.wait,
                    self.max_retry_after,
                )
                log.warning(
                    "%s: %s; retry %d/%d in %.2fs",
                    shown,
                    last.reason,
                    attempt,
                    self.max_retries,
                    delay,
                )
                await asyncio.sleep(delay)
            try:
                return await self._post_once(url, body, request.kind)
            except _Retryable as exc:
                last = exc
        assert last is not None
        attempts = self.max_retries + 1
        status = f"HTTP {last.status}" if last.status is not None else "no HTTP status"
        raise LLMError(
            f"{shown} failed after {attempts} attempt{'s' if attempts > 1 else ''}; "
            f"last error: {last.reason} "
            f"({status})",
            hint="check that the server is up and the model name is right; raise "
            "max_retries/timeout for a slow or rate-limited endpoint",
        )

    async def _post_once(self, url: str, body: dict[str, Any], kind: str) -> Generation:
        client = self._client
        if client is None:  # called outside agenerate (e.g. directly by a subclass)
            raise RuntimeError("OpenAICompatLLM requests must run inside agenerate()")
        try:
            resp = await client.post(url, json=body)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out after {self.timeout}s ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Retryable(
                f"connection error: {self._scrub(str(exc)) or type(exc).__name__}"
            ) from exc
        if resp.status_code in RETRY_STATUSES:
            raise _Retryable(
                f"server answered {resp.status_code}",
                resp.status_code,
                parse_retry_after(resp.headers.get("Retry-After")),
            )
        if resp.status_code >= 400:
            raise self._fatal(redact_url(url), resp)
        try:
            return parse_response(resp.json(), kind)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise _Retryable(
                f"malformed response ({type(exc).__name__})", resp.status_code
            ) from exc

    def _fatal(self, url: str, resp: httpx.Response) -> LLMError:
        detail = self._scrub(_error_message(resp))
        hint = None
        if resp.status_code in (401, 403):
            hint = (
                f"set the API key in the environment variable {self.api_key_env}"
                if self.api_key_env
                else "name the key's environment variable in api_key_env"
            )
        elif resp.status_code == 404:
            hint = "check base_url (it usually ends with /v1) and the model name"
        return LLMError(f"{url} answered HTTP {resp.status_code}: {detail}", hint=hint)


def _split_credentials(url: str) -> tuple[str, httpx.BasicAuth | None, tuple[str, ...]]:
    """(URL without user:password, basic auth from them, the secrets to scrub): httpx would
    send them anyway, but then logs every request URL with the password in it."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UsageError(f"base_url '{redact_url(url)}' is not a URL ({exc})", field="base_url") from exc
    if not parsed.userinfo:
        return url, None, ()
    auth = httpx.BasicAuth(parsed.username, parsed.password)
    secrets = tuple(s for s in (parsed.username, parsed.password) if len(s) >= 4)
    return str(parsed.copy_with(username=None, password=None)), auth, secrets


def _error_message(resp: httpx.Response) -> str:
    try:
        data = resp.json()
        msg = data.get("error", {}).get("message") if isinstance(data, dict) else None
        if isinstance(msg, str):
            return msg[:300]
    except (ValueError, AttributeError):
        pass
    return resp.text[:300] or resp.reason_phrase


def parse_response(data: Any, kind: str) -> Generation:
    """Turn an OpenAI chat/completions JSON body into a Generation (KeyError if malformed)."""
    choice = data["choices"][0]
    if kind == "chat":
        text = choice["message"].get("content") or ""
    else:
        text = choice["text"]
    if not isinstance(text, str):
        raise TypeError("answer text is not a string")
    usage = data.get("usage") or {}
    return Generation(
        text=text,
        finish_reason=choice.get("finish_reason"),
        usage=Usage(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
        ),
    )


__all__ = ["OpenAICompatLLM", "backoff_delay", "parse_response", "parse_retry_after"]
