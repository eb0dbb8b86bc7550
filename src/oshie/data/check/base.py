"""The parts every check is made of: `Finding`, `Span`, `Check`, `DatasetCheck`, the registry.

A check is a filter on the shared protocol (`oshie.filters.Filter`): a small class with a
`code`, a default `severity`, a one-line `description`, a pydantic `Params` model (its YAML
options) and `apply(record) -> list[Finding]`, with per-check statistics. Most checks look
at a record one part at a time (each turn, each text, each answer), so they declare which
part and write only the test of one part (`inspect`); the loop is `Check.apply`'s. Checks
that need the whole dataset (duplicates, duplicate ids) see records as they stream past
(`observe`) and report at the end (`finish`); checks that call a model (`BatchCheck`) get
records a batch at a time.

Severity means what a curator should do: `error` only where the record can be dropped
without reading it, `warning` where a person should look, `info` for statistics.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, ClassVar, Generic, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict

from oshie.filters import SEVERITY_RANK, Filter, Severity
from oshie.records import Conversation, PreferencePair

__all__ = ["SEVERITY_RANK", "Severity"]  # re-exported: checks import them from here

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
    context: dict[str, str] | None = None  # text just before and after the span (for people)

    # the order of the keys in findings.jsonl: where the record is, then what is wrong with it
    KEYS: ClassVar[tuple[str, ...]] = ("record_id", "source", "index", "check", "severity", "message", "span",
                                       "details", "context")

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.KEYS}
        out["span"] = self.span.to_dict() if self.span else None
        return out


@dataclass(frozen=True)
class TextField:
    """A piece of text in a record, with the role it plays and its field path."""

    path: str  # e.g. "messages[1].content", "chosen[0].content", "system"
    role: str  # "system", "user" or "assistant"
    text: str


@dataclass(frozen=True)
class Turn:
    """A user message and the assistant answer to it.

    `task_end` splits the user message into the request (`task`) and the reference material
    after it (`passage`: an alpaca `input`, a Dolly `context`, a document pasted below the
    request). The passage is the user's data, not the request: copying from it is not
    echoing the instruction, and its language is the source's, not the dataset's."""

    instruction: TextField
    answer: TextField
    task_end: int = -1  # offset in instruction.text where the passage starts; -1: no passage

    @property
    def task(self) -> str:
        return self.instruction.text if self.task_end < 0 else self.instruction.text[: self.task_end].rstrip()

    @property
    def passage(self) -> str:
        return "" if self.task_end < 0 else self.instruction.text[self.task_end :]


_PASSAGE_KEYS = ("alpaca_input", "input", "context")
_MIN_PASSAGE = 60  # a pasted block shorter than this is part of the request


def passage_start(record: Record, user_text: str) -> int:
    """Where the reference material of a user message starts, or -1.

    From the source's own input field when the reader kept it (alpaca `input`, Dolly
    `context`), else the text after the first blank line or after a first line ending in
    '：' when that block is long, as in "次の文章を要約してください。\n\n<document>"."""
    extra = record.metadata.model_extra or {}
    for key in _PASSAGE_KEYS:
        value = extra.get(key)
        if isinstance(value, str) and value.strip() and user_text.endswith(value):
            return len(user_text) - len(value)
    head, sep, rest = user_text.partition("\n\n")
    if not sep:
        head, sep, rest = user_text.partition("\n")
        if not head.rstrip().endswith(("：", ":")):
            return -1
    if len(rest.strip()) >= _MIN_PASSAGE and len(head) <= 300:
        return len(head) + len(sep)
    return -1


R = TypeVar("R")


def _last_record(fn: Callable[[Record], R]) -> Callable[[Record], R]:
    """`fn` remembering its answer for the last record it was given (compared by identity):
    every check asks for the same record's fields and turns in a row, so one entry saves most
    of that work."""
    last: list[Any] = [None, None]

    @wraps(fn)
    def remembered(record: Record) -> R:
        if last[0] is not record:
            last[:] = [record, fn(record)]
        return last[1]

    return remembered


@_last_record
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


@_last_record
def turns(record: Record) -> list[Turn]:
    """(instruction, answer) pairs: each assistant message with the user message before it."""
    fields = [f for f in text_fields(record) if f.role != "system"]
    out = []
    last_user: TextField | None = None
    for f in fields:
        if f.role == "user":
            last_user = f
        elif f.role == "assistant" and last_user is not None:
            out.append(Turn(last_user, f, passage_start(record, last_user.text)))
    return out


def answers(record: Record) -> list[TextField]:
    return [f for f in text_fields(record) if f.role == "assistant"]


CONTEXT_CHARS = 40  # characters kept on each side of a finding's span


def add_context(finding: Finding, record: Record) -> None:
    """Store the text around the finding's span (or the record's start) in `finding.context`."""
    if finding.span is None:
        finding.context = {"before": "", "after": " / ".join(t.text for t in text_fields(record))[:160]}
        return
    text = next((t.text for t in text_fields(record) if t.path == finding.span.field), "")
    finding.context = {"before": text[max(0, finding.span.start - CONTEXT_CHARS) : finding.span.start],
                       "after": text[finding.span.end : finding.span.end + CONTEXT_CHARS]}


class CheckParams(BaseModel):
    """Options every check takes in YAML; each check adds its own fields."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    severity: Severity | None = None  # None: the check's default severity


P = TypeVar("P", bound=CheckParams)
Part = Literal["turn", "text", "answer"]
# what `inspect` is given, one at a time, for each kind of part
PARTS: dict[str, Callable[[Record], Sequence[Any]]] = {"turn": turns, "text": text_fields, "answer": answers}


class Check(Filter[Record, "list[Finding]"], Generic[P]):
    """A per-record check, declared in its class statement:

        @register
        class JunkAnswer(Check, code="junk_answer", severity="error", family="length", each="turn"):
            \"\"\"The answer is one kana or only punctuation: nothing a model should learn.\"\"\"

            def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
                if _JUNK.match(t.answer.text):
                    yield self.finding(record, "junk answer", self.span(t.answer))

    The docstring is the `description` users read in `oshie data checks` and in the report.
    `each` names the part `inspect` is given: every `"turn"` (a `Turn`), every `"text"` of
    the record or every `"answer"` (a `TextField`); `first_only=True` stops at the record's
    first finding. A check with options subclasses `Check[ItsParams]` (the `Params` model of
    its YAML options, and the type of `self.params`). A check that needs the whole record at
    once overrides `apply` instead of `inspect`."""

    family: ClassVar[str] = ""
    Params: ClassVar[type[CheckParams]] = CheckParams
    each: ClassVar[Part | None] = None
    first_only: ClassVar[bool] = False

    def __init_subclass__(
        cls, *, code: str | None = None, severity: Severity | None = None, family: str | None = None,
        each: Part | None = None, first_only: bool | None = None, **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        declared = {"code": code, "severity": severity, "family": family, "each": each, "first_only": first_only}
        for name, value in declared.items():
            if value is not None:
                setattr(cls, name, value)
        if cls.__doc__ and "code" in cls.__dict__ and "description" not in cls.__dict__:
            cls.description = " ".join(cls.__doc__.split())
        for base in cls.__dict__.get("__orig_bases__", ()):  # Check[LengthParams]: its options
            params = [a for a in get_args(base) if isinstance(a, type) and issubclass(a, CheckParams)]
            if params:
                cls.Params = params[0]

    def __init__(self, params: P | None = None) -> None:
        self.params: P = params if params is not None else self.Params()  # type: ignore[assignment]
        self.level: Severity = self.params.severity or type(self).severity

    def finding(
        self, record: Record, message: str, span: Span | None = None, *, severity: Severity | None = None,
        **details: Any,
    ) -> Finding:
        """A finding of this check at its configured level, or at `severity` where the check
        itself grades this case differently (a circular answer is a warning, not an error)."""
        return Finding(record.id, self.code, severity or self.level, message, span, details)

    def span(self, f: TextField, start: int = 0, end: int | None = None) -> Span:
        """`f.text[start:end]` as a span (the whole text by default; `*m.span()` for a match)."""
        end = len(f.text) if end is None else end
        return Span(f.path, start, end, f.text[start:end])

    def apply(self, record: Record) -> list[Finding]:
        """What `inspect` finds in each part of the record (only the first finding with `first_only`)."""
        if self.each is None:
            raise NotImplementedError(f"{type(self).__name__}: declare each=... and write inspect, or write apply")
        found = []
        for part in PARTS[self.each](record):
            for finding in self.inspect(record, part):
                found.append(finding)
                if self.first_only:
                    return found
        return found

    def inspect(self, record: Record, part: Any) -> Iterable[Finding]:
        """The findings in one part of `record` (the kind of part `each` names)."""
        raise NotImplementedError(f"{type(self).__name__} declares each={self.each!r} but has no inspect")


class DatasetCheck(Check[P]):
    """A check over the whole dataset, in bounded memory: it sees each record once as the
    audit streams past (`observe`, keeping only a compact summary of it) and reports at the
    end (`finish`, findings carry the record's position in `index`)."""

    def apply(self, record: Record) -> list[Finding]:  # pragma: no cover - not used per record
        return []

    @abstractmethod
    def observe(self, record: Record, index: int, source: str) -> None:
        """Remember what `finish` needs of one record."""

    @abstractmethod
    def finish(self) -> list[Finding]:
        """The findings over every observed record."""

    def apply_dataset(self, records: Sequence[Record], sources: Sequence[str]) -> list[Finding]:
        """All of `records` at once (observe each, then finish)."""
        for i, (r, s) in enumerate(zip(records, sources, strict=True)):
            self.observe(r, i, s)
        return self.finish()


class BatchCheck(Check[P]):
    """A per-record check that works a batch at a time (one that calls a model)."""

    def apply(self, record: Record) -> list[Finding]:
        return self.apply_batch([record])[0]

    @abstractmethod
    def apply_batch(self, records: Sequence[Record]) -> list[list[Finding]]:
        """The findings of each record of the batch, in order."""


REGISTRY: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    """Class decorator adding a check to the registry under its `code`."""
    if cls.code in REGISTRY:
        raise ValueError(f"duplicate check code {cls.code!r}")
    REGISTRY[cls.code] = cls
    return cls


FAMILY_ORDER = ("fields", "length", "translation", "fluency", "refusal", "safety", "duplicates", "contamination",
                "judge")


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
        judge,
        length,
        mt_defects,
        ngwords,
        pii,
        refusal,
        translation,
    )
