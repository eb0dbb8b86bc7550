"""Asking for answers and judging whether an answer is usable (shared by the pipelines)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from oshie.llm.base import Generation, GenerationParams, LLMRequest
from oshie.records import Conversation, Message
from oshie.synth.filters import HasContent, NotBroken, NotRefusal

# the config field of every pipeline that answers what it generates
AnswerMaxTokens = Annotated[int, Field(ge=1, description="Longest answer, in tokens.")]


def prompt_messages(conv: Conversation) -> list[Message]:
    """The conversation up to and including its last user message (trailing answers dropped)."""
    last_user = max((i for i, m in enumerate(conv.messages) if m.role == "user"), default=-1)
    return list(conv.messages[: last_user + 1])


def chat_payload(system: str | None, messages: list[Message]) -> list[dict[str, str]]:
    head = [{"role": "system", "content": system}] if system else []
    return head + [m.model_dump() for m in messages]


def answer_request(
    system: str | None, messages: list[Message], params: GenerationParams, sample_index: int = 0
) -> LLMRequest:
    return LLMRequest(messages=chat_payload(system, messages), params=params,
                      sample_index=sample_index)


_CONTENT = HasContent()
_REFUSAL = NotRefusal()
_BROKEN = NotBroken()


def answer_problem(gen: Generation, *, refusals: bool = True) -> tuple[str, str] | None:
    """Why an answer cannot be used (reason, detail), or None when it is fine."""
    text = gen.text.strip()
    if _CONTENT(text) is not None:
        return "empty_answer", "the answer is empty or only punctuation"
    if (detail := _BROKEN(text)) is not None:
        return "broken_text", detail
    if gen.finish_reason == "length":
        return "truncated", "the answer hit max_tokens"
    if refusals and (detail := _REFUSAL(text)) is not None:
        return "refusal", detail
    return None
