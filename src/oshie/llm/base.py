"""One chat-generation interface for every backend.

A request is either chat `messages` or a raw completion `prompt` (Magpie needs the
latter); parameters travel with it so the cache key covers everything that changes
the answer. Backends implement `_agenerate_one` (or override `agenerate` to batch);
concurrency, progress and per-result callbacks are shared.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Called as each request finishes, with its index in the batch. The cache uses it to
# commit every finished call before the batch ends, so a killed run loses nothing.
ResultCallback = Callable[[int, "Generation"], None]

# Seeds are int64 (what torch and the OpenAI API take), with room for seed + sample index.
SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1 - 1024


class GenerationParams(BaseModel):
    """Sampling settings of one request. Numbers must be finite and in range, so a NaN
    temperature or an overflowing seed is refused here, before any backend sees it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    max_tokens: int = Field(512, ge=1)
    temperature: float = Field(0.0, ge=0)
    top_p: float = Field(1.0, ge=0, le=1)
    stop: list[str] | None = None
    seed: int | None = Field(None, ge=SEED_MIN, le=SEED_MAX)


class LLMRequest(BaseModel):
    """One call: chat messages or a raw prompt, with its sampling parameters.

    `sample_index` distinguishes the n-th sample of the same request, so n sampled
    answers are n cache entries and a resumed run re-uses each of them.
    """

    model_config = ConfigDict(extra="forbid")

    messages: list[dict[str, str]] | None = None
    prompt: str | None = None
    params: GenerationParams = Field(default_factory=GenerationParams)
    sample_index: int = 0

    @model_validator(mode="after")
    def _one_of(self) -> LLMRequest:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("give exactly one of 'messages' or 'prompt'")
        return self

    @property
    def kind(self) -> Literal["chat", "completion"]:
        return "chat" if self.messages is not None else "completion"

    def effective_seed(self) -> int | None:
        """The seed actually used: the n-th sample of a seeded request gets seed + n,
        so n samples differ from each other yet each is reproducible."""
        if self.params.seed is None:
            return None
        return self.params.seed + self.sample_index


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Generation(BaseModel):
    text: str
    finish_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    cached: bool = False


class LLM(ABC):
    """A chat/completion generator. Subclasses implement `_agenerate_one`."""

    backend: str = "base"

    def __init__(self, model: str, concurrency: int = 8) -> None:
        self.model = model
        self.concurrency = max(1, concurrency)

    @abstractmethod
    async def _agenerate_one(self, request: LLMRequest) -> Generation: ...

    def identity(self) -> dict[str, Any]:
        """What identifies this generator in a cache key (never secrets)."""
        return {"backend": self.backend, "model": self.model}

    async def prepare(self) -> None:  # noqa: B027 - optional hook
        """Learn what `identity()` needs before the first key is computed (a served
        model's fingerprint, say). Called by the cache; cheap after the first time."""

    async def agenerate(
        self,
        requests: Sequence[LLMRequest],
        *,
        on_result: ResultCallback | None = None,
        desc: str | None = None,
    ) -> list[Generation]:
        """Run all requests, results in request order.

        `on_result(i, generation)` runs as each one finishes; `desc` shows a progress bar.
        How the requests are sent is the backend's `_schedule` (by default each on its own,
        at most `concurrency` at once); what they share while they run (an HTTP client)
        is its `_session`.
        """
        results: list[Generation | None] = [None] * len(requests)

        def deliver(i: int, gen: Generation) -> None:
            results[i] = gen
            if on_result is not None:
                on_result(i, gen)

        async with self._session():
            await self._schedule(requests, deliver, desc)
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:  # only if a backend broke its contract
            raise RuntimeError(f"no answer for request(s) {missing[:5]}")
        return [r for r in results if r is not None]

    def _session(self) -> AbstractAsyncContextManager[Any]:
        """What one `agenerate` call holds open while its requests run (default: nothing)."""
        return contextlib.nullcontext()

    async def _schedule(
        self, requests: Sequence[LLMRequest], deliver: ResultCallback, desc: str | None
    ) -> None:
        """Answer every request, handing each answer to `deliver(i, generation)`.

        By default each request is its own `_agenerate_one` call, at most `concurrency` at
        once. When one fails (after its backend's retries) no new one starts, the ones in
        flight finish (so a cache keeps them), then the first error is raised.
        """
        sem = self._semaphore()
        failed: list[BaseException] = []
        with _Progress(desc, len(requests)) as bar:

            async def one(i: int, req: LLMRequest) -> None:
                async with sem:
                    if failed:
                        return
                    try:
                        gen = await self._agenerate_one(req)
                    except Exception as exc:
                        failed.append(exc)
                        raise
                    deliver(i, gen)
                bar.advance()

            outcomes = await asyncio.gather(
                *(one(i, r) for i, r in enumerate(requests)), return_exceptions=True
            )
        if failed:
            raise failed[0]
        for r in outcomes:  # e.g. a bug in on_result
            if isinstance(r, BaseException):
                raise r

    def _semaphore(self) -> asyncio.Semaphore:
        """One semaphore per event loop, shared by every batch on it, so `concurrency`
        bounds this generator even when callers run many small batches at once."""
        loop = asyncio.get_running_loop()
        held = getattr(self, "_sem", None)
        if held is None or held[0] is not loop:
            held = (loop, asyncio.Semaphore(self.concurrency))
            self._sem = held
        return held[1]

    def generate(
        self,
        requests: Sequence[LLMRequest],
        *,
        on_result: ResultCallback | None = None,
        desc: str | None = None,
    ) -> list[Generation]:
        return asyncio.run(self.agenerate(requests, on_result=on_result, desc=desc))

    def chat(self, messages: list[dict[str, str]], **params: Any) -> Generation:
        return self.generate([LLMRequest(messages=messages, params=GenerationParams(**params))])[0]

    def complete(self, prompt: str, **params: Any) -> Generation:
        return self.generate([LLMRequest(prompt=prompt, params=GenerationParams(**params))])[0]

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections or model memory."""

    def __enter__(self) -> LLM:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _Progress:
    """A progress bar over a batch, or nothing when no description is given."""

    def __init__(self, desc: str | None, total: int) -> None:
        self._bar = None
        if desc is not None and total > 0:
            from oshie.console import progress

            self._bar = progress()
            self._task = self._bar.add_task(desc, total=total)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.stop()
