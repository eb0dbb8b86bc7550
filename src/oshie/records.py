"""The one in-memory shape of a record: `Conversation` and `PreferencePair`.

Every reader yields these and every writer takes them, whatever the file format.
This module imports nothing else from oshie.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ROLES",
    "Conversation",
    "Message",
    "PreferencePair",
    "Provenance",
    "Record",
    "Role",
    "stable_hash",
]


Role = Literal["system", "user", "assistant"]
ROLES: tuple[str, ...] = ("system", "user", "assistant")


class Message(BaseModel):
    """One chat turn; extra keys are refused so a misspelt field never passes silently."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str


class Provenance(BaseModel):
    """Where a record came from: people and/or a generator. All fields optional."""

    model_config = ConfigDict(extra="allow")

    source: str | None = None  # dataset or file the record came from
    license: str | None = None
    category: str | None = None
    language: str | None = "ja"
    # people who wrote it (ichikara-style teams: question writer, answer writer, checker)
    question_writer: str | None = None
    answer_writer: str | None = None
    checker: str | None = None
    # synthetic records
    generator_model: str | None = None
    prompt_template: str | None = None
    generation_params: dict[str, Any] | None = None
    parent_id: str | None = None
    stage: str | None = None
    license_restricted: bool | None = None


class Conversation(BaseModel):
    """A chat: optional system prompt, then alternating user/assistant messages."""

    model_config = ConfigDict(extra="forbid")

    id: str
    system: str | None = None
    messages: list[Message]
    metadata: Provenance = Field(default_factory=Provenance)

    @field_validator("messages")
    @classmethod
    def _no_system_inside(cls, messages: list[Message]) -> list[Message]:
        # the system prompt lives in `system`; keeping it out of `messages` gives one place for it
        if any(m.role == "system" for m in messages):
            raise ValueError("put the system prompt in 'system', not in 'messages'")
        return messages

    @property
    def instruction(self) -> str:
        """The first user message (the instruction of a single-turn record)."""
        return next((m.content for m in self.messages if m.role == "user"), "")

    @property
    def answer(self) -> str:
        """The last assistant message."""
        return next((m.content for m in reversed(self.messages) if m.role == "assistant"), "")

    def all_messages(self) -> list[Message]:
        """Messages with the system prompt (if any) first, as a chat template wants them."""
        head = [Message(role="system", content=self.system)] if self.system else []
        return head + list(self.messages)

    def chat(self) -> list[dict[str, str]]:
        """The system prompt and messages as plain dicts, the shape chat APIs and templates take."""
        return [m.model_dump() for m in self.all_messages()]

    def content_hash(self) -> str:
        """A hash of what is said (system + messages, not id or metadata), for duplicate detection."""
        return stable_hash({"system": self.system, "messages": [m.model_dump() for m in self.messages]})


class PreferencePair(BaseModel):
    """A preference record for DPO: prompt messages, then a chosen and a rejected answer."""

    model_config = ConfigDict(extra="forbid")

    id: str
    system: str | None = None
    prompt: list[Message]
    chosen: list[Message]
    rejected: list[Message]
    chosen_score: float | None = None
    rejected_score: float | None = None
    metadata: Provenance = Field(default_factory=Provenance)

    @property
    def instruction(self) -> str:
        """The last user message of the prompt: what the pair answers."""
        return next((m.content for m in reversed(self.prompt) if m.role == "user"), "")

    @property
    def chosen_text(self) -> str:
        """The final text of the preferred answer."""
        return self.chosen[-1].content if self.chosen else ""

    @property
    def rejected_text(self) -> str:
        """The final text of the dispreferred answer."""
        return self.rejected[-1].content if self.rejected else ""


Record = Conversation | PreferencePair


def stable_hash(obj: Any, length: int = 16) -> str:
    """A short content hash of any JSON-able object (sorted keys, UTF-8)."""
    data = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:length]
