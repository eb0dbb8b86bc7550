"""One protocol for text filters: audit checks, synthesis filters and corpus filters.

A filter is a small class with a `code` (its name in reports and drop reasons), a default
`severity`, a one-line `description` and one `apply(item)` method whose result is falsy
when the item passes (None, an empty list) and otherwise says why it fails (a detail
string, a list of findings ...). Calling the filter (`f(item)`) runs `apply` and keeps
per-filter statistics: items seen, items hit, seconds spent. `Compose` runs filters in
order, HojiChar-style: `first_failure` for dropping (synthesis, corpora), `every_failure`
for reporting (the audit, which changes nothing and reports everything).

This module imports nothing else from oshie, so every stage can build on it.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar

__all__ = ["SEVERITY_RANK", "Compose", "Filter", "FilterStats", "Severity"]

Severity = Literal["info", "warning", "error"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class FilterStats:
    """What one filter did: items it looked at, items it hit, time spent."""

    code: str
    seen: int = 0
    hits: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "seen": self.seen, "hits": self.hits, "seconds": round(self.seconds, 3)}


class Filter(ABC, Generic[T, R]):
    """A named test on one item. Subclasses set `code` and implement `apply`."""

    code: ClassVar[str]
    severity: ClassVar[Severity] = "warning"
    description: ClassVar[str] = ""

    @property
    def stats(self) -> FilterStats:
        # created on first use, so subclasses need not call a base __init__
        s = self.__dict__.get("_stats")
        if s is None:
            s = self.__dict__["_stats"] = FilterStats(self.code)
        return s

    @abstractmethod
    def apply(self, item: T) -> R:
        """A falsy value when `item` passes, else what is wrong with it."""

    def __call__(self, item: T) -> R:
        t0 = time.perf_counter()
        result = self.apply(item)
        s = self.stats
        s.seconds += time.perf_counter() - t0
        s.seen += 1
        if result:
            s.hits += 1
        return result


class Compose(Generic[T]):
    """Filters applied in order, each keeping its own statistics."""

    def __init__(self, filters: Sequence[Filter[T, Any]]) -> None:
        self.filters = list(filters)

    def first_failure(self, item: T, extra: Sequence[Filter[T, Any]] = ()) -> tuple[str, Any] | None:
        """(code, result) of the first filter `item` fails, or None; later filters do not run."""
        for f in [*self.filters, *extra]:
            result = f(item)
            if result:
                return f.code, result
        return None

    def every_failure(self, item: T) -> list[tuple[str, Any]]:
        """(code, result) of every filter `item` fails."""
        out = []
        for f in self.filters:
            result = f(item)
            if result:
                out.append((f.code, result))
        return out

    def stats(self) -> dict[str, FilterStats]:
        return {f.code: f.stats for f in self.filters}
