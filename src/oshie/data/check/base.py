"""The parts every check is made of: `Finding`, `Span`, `Check`, `DatasetCheck`, the registry.

A check is a small class with a `code`, a default `severity`, a one-line `description`, a
pydantic `Params` model (its YAML options) and `apply(record) -> list[Finding]`. Checks that
need the whole dataset at once (duplicates, contamination) implement `apply_dataset`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from oshie.records import Conversation, PreferencePair

Severity = Literal["info", "warning", "error"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}
Record = Conversation | PreferencePair


@dataclass(frozen=True)
class Span:
    """Where a problem is: a field of the record and character offsets into that field's text."""

    field: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "start": self.start, "end": self.end, "text": self.text}


@dataclass
class Finding:
    """One problem found in one record."""

    record_id: str
    check: str
    severity: Severity
    message: str
    span: Span | None = None
    details: dict[str, Any] = field(default_factory=dict)
    index: int = -1  # position of the record in the checked list (ids may repeat across files)
    source: str | None = None  # the file the record came from, when known

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "source": self.source,
            "index": self.index,
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "span": self.span.to_dict() if self.span else None,
            "details": self.details,
        }


@dataclass(frozen=True)
class TextField:
    """A piece of text in a record, with the role it plays and its field path."""

    path: str  # e.g. "messages[1].content", "chosen[0].content", "system"
    role: str  # "system", "user" or "assistant"
    text: str


@dataclass(frozen=True)
class Turn:
    """A user message and the assistant answer to it."""

    instruction: TextField
    answer: TextField


def text_fields(record: Record) -> list[TextField]:
    """Every text of a record. For preference pairs the rejected answer is left out on purpose:
    it is meant to be worse, so flagging it would only be noise."""
    out: list[TextField] = []
    if record.system is not None:
        out.append(TextField("system", "system", record.system))
    if isinstance(record, Conversation):
        groups = [("messages", record.messages)]
    else:
        groups = [("prompt", record.prompt), ("chosen", record.chosen)]
    for name, messages in groups:
        for i, m in enumerate(messages):
            out.append(TextField(f"{name}[{i}].content", m.role, m.content))
    return out


def turns(record: Record) -> list[Turn]:
    """(instruction, answer) pairs: each assistant message with the user message before it."""
    fields = [f for f in text_fields(record) if f.role != "system"]
    out = []
    last_user: TextField | None = None
    for f in fields:
        if f.role == "user":
            last_user = f
        elif f.role == "assistant" and last_user is not None:
            out.append(Turn(last_user, f))
    return out


def answers(record: Record) -> list[TextField]:
    return [f for f in text_fields(record) if f.role == "assistant"]


class CheckParams(BaseModel):
    """Options every check takes in YAML; each check adds its own fields."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    severity: Severity | None = None  # None: the check's default severity


class Check(ABC):
    """A per-record check. Subclasses set the class variables and implement `apply`."""

    code: ClassVar[str]
    severity: ClassVar[Severity] = "warning"
    description: ClassVar[str] = ""
    family: ClassVar[str] = ""
    Params: ClassVar[type[CheckParams]] = CheckParams

    def __init__(self, params: CheckParams | None = None) -> None:
        self.params = params if params is not None else self.Params()
        self.level: Severity = self.params.severity or type(self).severity

    def finding(
        self, record: Record, message: str, span: Span | None = None, **details: Any
    ) -> Finding:
        return Finding(record.id, self.code, self.level, message, span, details)

    def span(self, f: TextField, start: int, end: int) -> Span:
        return Span(f.path, start, end, f.text[start:end])

    @abstractmethod
    def apply(self, record: Record) -> list[Finding]:
        """The findings for one record (empty when it passes)."""


class DatasetCheck(Check):
    """A check that needs all records at once (duplicates, contamination)."""

    def apply(self, record: Record) -> list[Finding]:  # pragma: no cover - not used per record
        return []

    @abstractmethod
    def apply_dataset(self, records: Sequence[Record], sources: Sequence[str]) -> list[Finding]:
        """The findings over all records at once."""


REGISTRY: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    """Class decorator adding a check to the registry under its `code`."""
    if cls.code in REGISTRY:
        raise ValueError(f"duplicate check code {cls.code!r}")
    REGISTRY[cls.code] = cls
    return cls


FAMILY_ORDER = ("fields", "length", "translation", "fluency", "refusal", "safety", "duplicates", "contamination")


def iter_checks() -> Iterator[type[Check]]:
    """Every registered check: by family (built-in families in reading order), then by code."""
    _load_builtin_checks()
    rank = {f: i for i, f in enumerate(FAMILY_ORDER)}
    yield from sorted(REGISTRY.values(), key=lambda c: (rank.get(c.family, len(rank)), c.code))


def _load_builtin_checks() -> None:
    # importing the modules runs their @register decorators
    from oshie.data.check import contamination as _contamination  # noqa: F401
    from oshie.data.check import (  # noqa: F401
        duplicates,
        fields,
        fluency,
        length,
        ngwords,
        pii,
        refusal,
        translation,
    )
