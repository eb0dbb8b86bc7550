"""Shared machinery for LLM judges: calls retried on unparsable verdicts.

Judge prompts (`judge_grade_v1`, `judge_pairwise_v1` or a user's file) are loaded and
filled by `oshie.prompts`, which also escapes the fenced answers so the judge grades them
as data.

An unparsable verdict is asked again with a new `sample_index` (a distinct cache entry)
and a non-zero temperature; after the last attempt it is counted, never defaulted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from oshie.console import progress
from oshie.errors import LLMError
from oshie.llm.base import LLM, GenerationParams, LLMRequest

T = TypeVar("T")


@dataclass
class Attempt:
    """One ask of the judge: the raw reply is kept so every verdict can be audited."""

    sample_index: int
    raw: str | None
    parsed: Any = None
    error: str | None = None


@dataclass
class Verdict(Generic[T]):
    """The parsed verdict of one item (None when no attempt parsed) and every attempt."""

    value: T | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def status(self) -> str:
        """ok, judge_error (the call failed) or unparsable: failures are counted, never defaulted."""
        if self.value is not None:
            return "ok"
        if self.attempts and self.attempts[-1].error is not None:
            return "judge_error"
        return "unparsable"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready verdict with its attempts, for the per-item output."""
        return {"value": self.value, "status": self.status,
                "attempts": [a.__dict__ for a in self.attempts]}


async def _call_each(llm: LLM, requests: Sequence[LLMRequest], desc: str) -> list[Any]:
    """One call per request so a request that fails after its retries fails alone."""
    sem = asyncio.Semaphore(llm.concurrency)
    with progress() as bar:
        task = bar.add_task(desc, total=len(requests))

        async def one(req: LLMRequest) -> Any:
            async with sem:
                try:
                    result: Any = (await llm.agenerate([req]))[0]
                except LLMError as exc:
                    result = exc
            bar.advance(task)
            return result

        return list(await asyncio.gather(*(one(r) for r in requests)))


def _is_local(llm: LLM) -> bool:
    inner = getattr(llm, "inner", None)  # CachedLLM wraps another backend
    return "local" in (getattr(llm, "backend", None), getattr(inner, "backend", None))


async def _call_all(llm: LLM, requests: Sequence[LLMRequest], desc: str) -> list[Any]:
    """A local model answers the whole list in batches; an HTTP judge one request per call
    (concurrently), so that one request failing after its retries fails alone."""
    if _is_local(llm):
        try:
            return list(await llm.agenerate(requests, desc=desc))
        except LLMError:
            pass  # e.g. one prompt too long for the window: isolate it below
    return await _call_each(llm, requests, desc)


def judge_with_retries(
    llm: LLM,
    messages: Sequence[list[dict[str, str]]],
    parse: Callable[[str], T | None],
    max_attempts: int = 3,
    max_tokens: int = 512,
    retry_temperature: float = 0.7,
) -> list[Verdict[T]]:
    """Ask the judge once per prompt; re-ask only those whose verdict did not parse."""
    verdicts: list[Verdict[T]] = [Verdict() for _ in messages]
    pending = list(range(len(messages)))
    for attempt in range(max_attempts):
        if not pending:
            break
        temperature = 0.0 if attempt == 0 else retry_temperature
        reqs = [LLMRequest(messages=messages[i], sample_index=attempt,
                           params=GenerationParams(max_tokens=max_tokens, temperature=temperature))
                for i in pending]
        desc = "judge" if attempt == 0 else f"judge (retry {attempt})"
        outs = asyncio.run(_call_all(llm, reqs, desc))
        still = []
        for i, out in zip(pending, outs, strict=True):
            if isinstance(out, LLMError):
                # the client already retried transport failures; record it and stop asking
                verdicts[i].attempts.append(Attempt(attempt, None, error=out.message))
                continue
            value = parse(out.text)
            verdicts[i].attempts.append(Attempt(attempt, out.text, parsed=value))
            if value is None:
                still.append(i)
            else:
                verdicts[i].value = value
        pending = still
    return verdicts
