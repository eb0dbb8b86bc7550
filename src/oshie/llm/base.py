"""One chat-generation interface for every backend.

A request is either chat `messages` or a raw completion `prompt` (Magpie needs the
latter); parameters travel with it so the cache key covers everything that changes
the answer. Backends implement `_agenerate_one`; batching, concurrency and caching
are shared.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class GenerationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    stop: list[str] | None = None
    seed: int | None = None


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

    async def agenerate(self, requests: Sequence[LLMRequest]) -> list[Generation]:
        sem = asyncio.Semaphore(self.concurrency)

        async def one(req: LLMRequest) -> Generation:
            async with sem:
                return await self._agenerate_one(req)

        return list(await asyncio.gather(*(one(r) for r in requests)))

    def generate(self, requests: Sequence[LLMRequest]) -> list[Generation]:
        return asyncio.run(self.agenerate(requests))

    def chat(self, messages: list[dict[str, str]], **params: Any) -> Generation:
        return self.generate([LLMRequest(messages=messages, params=GenerationParams(**params))])[0]

    def complete(self, prompt: str, **params: Any) -> Generation:
        return self.generate([LLMRequest(prompt=prompt, params=GenerationParams(**params))])[0]

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections or model memory."""
