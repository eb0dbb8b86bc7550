"""The format registry: each format is a pair of small functions registered by name.

`read_row(row, ctx)` turns one source row (a dict) into a `Conversation` or
`PreferencePair` and raises `RowError` naming the field at fault; `write_row(record)`
turns a record back into a row and raises `RowError` when the format cannot hold it
(e.g. a multi-turn chat in alpaca).

Detection order comes from the registry itself: formats identified by more fields are
tried first (they are the more specific claim), ties in registration order. So adding a
format is one `register(...)` call, with no list to keep in step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from oshie.errors import RowError, UsageError
from oshie.records import Record

__all__ = ["ALIASES", "FORMATS", "Format", "RowContext", "RowError", "detect_format", "detection_order",
           "get_format", "register"]


@dataclass(frozen=True)
class RowContext:
    stem: str  # file stem, for ids of records that have none
    line: int  # line (or row) where the record starts
    tabular: bool = False  # cells of CSV/XLSX/Parquet: nested fields may be JSON text
    require_answer: bool = True  # False: instructions without answers are records too
    position: int | None = None  # the record's number in the file when lines do not tell records apart

@dataclass(frozen=True)
class Format:
    name: str
    kind: Literal["conversation", "preference"]
    required: tuple[str, ...]  # fields that identify the format when auto-detecting
    known: frozenset[str]  # every field the format reads; others go to metadata.extra
    read_row: Callable[[dict[str, Any], RowContext], Record]
    write_row: Callable[[Record], dict[str, Any]]
    summary: str
    # fields that identify the format when answers may be missing (default: `required`)
    prompt_fields: tuple[str, ...] = ()

    def identified_by(self, row: dict[str, Any], require_answer: bool = True) -> bool:
        fields = self.required if require_answer else (self.prompt_fields or self.required)
        return all(key in row for key in fields)


FORMATS: dict[str, Format] = {}
ALIASES = {"openai": "messages", "native": "messages", "dpo": "preference", "ichikara-instruction": "ichikara"}


def register(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt


def detection_order() -> list[Format]:
    """Formats by how many fields identify them (most first), ties in registration order:
    a row with prompt, chosen and rejected is a preference pair before it is a prompt."""
    return sorted(FORMATS.values(), key=lambda f: -len(f.required))

def get_format(name: str) -> Format:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in FORMATS:
        raise UsageError(
            f"unknown format '{name}'",
            hint=f"use one of: {', '.join(FORMATS)}",
        )
    return FORMATS[key]



def detect_format(rows: list[dict[str, Any]], require_answer: bool = True) -> Format | None:
    """The first format whose identifying fields a row has (rows tried in order); without
    `require_answer`, a row lacking every full field set is matched by its prompt fields."""
    order = detection_order()
    for row in rows:
        for strict in (True, False) if not require_answer else (True,):
            for fmt in order:
                if fmt.identified_by(row, strict):
                    return fmt
    return None
