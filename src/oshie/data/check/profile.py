"""Dataset profile for the audit report: length distributions and category balance."""

from __future__ import annotations

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
    if not values:
        return {"n": 0}
    a = np.asarray(values)
    return {"n": int(a.size), "mean": round(float(a.mean()), 1), "min": int(a.min()),
            "p50": float(np.percentile(a, 50)), "p90": float(np.percentile(a, 90)), "max": int(a.max())}


def profile(records: Sequence[Record], sources: Sequence[str]) -> dict[str, Any]:
    """Lengths per field and category counts, overall and per source file."""
    lengths = [record_lengths(r) for r in records]
    categories = Counter(category_of(r) for r in records)
    per_source: dict[str, Counter[str]] = {}
    for r, s in zip(records, sources, strict=True):
        per_source.setdefault(s, Counter())[category_of(r)] += 1
    shares = np.array(list(categories.values()), dtype=float)
    balance = None
    if len(shares) > 1:
        p = shares / shares.sum()
        # normalised entropy: 1 = perfectly balanced, near 0 = one category dominates
        balance = round(float(-(p * np.log(p)).sum() / np.log(len(p))), 3)
    return {
        "instruction_chars": _describe([a for a, _ in lengths]),
        "answer_chars": _describe([b for _, b in lengths]),
        "categories": dict(categories.most_common()),
        "category_balance": balance,
        "categories_by_source": {s: dict(c.most_common()) for s, c in per_source.items()},
        "records_by_source": dict(Counter(sources)),
        "_lengths": lengths,  # for the histograms; dropped from summary.json
    }
