"""Dataset profile for the audit report: length distributions and category balance.

Built incrementally (`ProfileBuilder.add` per record) so a streamed audit keeps two small
integers per record, not the records."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from oshie.data.check.base import Record, turns


def record_lengths(record: Record) -> tuple[int, int]:
    """(instruction characters, answer characters) summed over the record's turns."""
    ts = turns(record)
    return sum(len(t.instruction.text) for t in ts), sum(len(t.answer.text) for t in ts)


def category_of(record: Record) -> str:
    return record.metadata.category or "(なし / none)"


def _describe(values: Sequence[int]) -> dict[str, float]:
    if not len(values):
        return {"n": 0}
    a = np.asarray(values)
    return {"n": int(a.size), "mean": round(float(a.mean()), 1), "min": int(a.min()),
            "p50": float(np.percentile(a, 50)), "p90": float(np.percentile(a, 90)), "max": int(a.max())}


class ProfileBuilder:
    """Lengths per field and category counts, overall and per source file."""

    def __init__(self) -> None:
        self.instruction_chars = array("I")
        self.answer_chars = array("I")
        self.categories: Counter[str] = Counter()
        self.per_source: dict[str, Counter[str]] = {}
        self.sources: Counter[str] = Counter()

    def add(self, record: Record, source: str) -> None:
        a, b = record_lengths(record)
        self.instruction_chars.append(a)
        self.answer_chars.append(b)
        cat = category_of(record)
        self.categories[cat] += 1
        self.per_source.setdefault(source, Counter())[cat] += 1
        self.sources[source] += 1

    def result(self) -> dict[str, Any]:
        shares = np.array(list(self.categories.values()), dtype=float)
        balance = None
        if len(shares) > 1:
            p = shares / shares.sum()
            # normalised entropy: 1 = perfectly balanced, near 0 = one category dominates
            balance = round(float(-(p * np.log(p)).sum() / np.log(len(p))), 3)
        return {
            "instruction_chars": _describe(self.instruction_chars),
            "answer_chars": _describe(self.answer_chars),
            "categories": dict(self.categories.most_common()),
            "category_balance": balance,
            "categories_by_source": {s: dict(c.most_common()) for s, c in self.per_source.items()},
            "records_by_source": dict(self.sources),
            "_lengths": (self.instruction_chars, self.answer_chars),  # for the histograms; not in summary.json
        }


def profile(records: Sequence[Record], sources: Sequence[str]) -> dict[str, Any]:
    """The profile of a list of records (see `ProfileBuilder`)."""
    b = ProfileBuilder()
    for r, s in zip(records, sources, strict=True):
        b.add(r, s)
    return b.result()
