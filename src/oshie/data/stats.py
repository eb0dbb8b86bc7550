"""Describe a data file: counts, roles, turns, character lengths and categories."""

from __future__ import annotations

import bisect
import itertools
from collections import Counter
from pathlib import Path
from typing import Any

from oshie.data.files import DEFAULT_MAX_LINE_BYTES
from oshie.data.io import RecordStream, track_stream
from oshie.records import Conversation, PreferencePair

# character-length bins: Japanese answers run from a word to a few thousand characters
BIN_EDGES = (0, 50, 100, 200, 400, 800, 1600, 3200)
TOP = 15


def _bin_labels() -> list[str]:
    labels = [f"{lo}-{hi - 1}" for lo, hi in itertools.pairwise(BIN_EDGES)]
    return [*labels, f"{BIN_EDGES[-1]}+"]


def describe_lengths(lengths: list[int]) -> dict[str, Any]:
    """min/median/p90/max/mean and a histogram of character lengths."""
    if not lengths:
        return {"n": 0}
    import numpy as np

    arr = np.asarray(lengths)
    counts = Counter(bisect.bisect_right(BIN_EDGES, n) - 1 for n in lengths)
    return {
        "n": int(arr.size),
        "min": int(arr.min()),
        "median": float(np.median(arr)),
        "p90": float(np.percentile(arr, 90)),
        "max": int(arr.max()),
        "mean": round(float(arr.mean()), 1),
        "histogram": {label: counts.get(i, 0) for i, label in enumerate(_bin_labels())},
    }


def compute_stats(path: str | Path, fmt: str | None = None, *, file_type: str | None = None,
                  max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> dict[str, Any]:
    stream = RecordStream(path, fmt, file_type=file_type, max_line_bytes=max_line_bytes)
    kinds: Counter[str] = Counter()
    roles: Counter[str] = Counter()
    turns: Counter[int] = Counter()
    categories: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    ids: Counter[str] = Counter()
    lengths: dict[str, list[int]] = {"instruction": [], "answer": [], "chosen": [], "rejected": []}
    invalid, with_system = 0, 0
    first_errors: list[str] = []
    for result in track_stream(stream, f"reading {stream.path.name}"):
        rec = result.record
        if rec is None:
            invalid += 1
            if len(first_errors) < 5 and result.error is not None:
                first_errors.append(result.error.render().splitlines()[0])
            continue
        ids[rec.id] += 1
        if rec.system:
            with_system += 1
            roles["system"] += 1
        meta = rec.metadata
        categories[meta.category or "(none)"] += 1
        sources[meta.source or "(none)"] += 1
        if isinstance(rec, Conversation):
            kinds["conversation"] += 1
            n_user = 0
            for m in rec.messages:
                roles[m.role] += 1
                n_user += m.role == "user"
            turns[n_user] += 1
            lengths["instruction"].append(len(rec.instruction))
            lengths["answer"].append(len(rec.answer))
        elif isinstance(rec, PreferencePair):
            kinds["preference"] += 1
            for m in rec.prompt:
                roles[m.role] += 1
            turns[sum(m.role == "user" for m in rec.prompt)] += 1
            lengths["instruction"].append(len(rec.instruction))
            lengths["chosen"].append(len(rec.chosen_text))
            lengths["rejected"].append(len(rec.rejected_text))
    return {
        "file": stream.source.display,
        "file_type": stream.file_type,
        "encoding": stream.encoding,
        "format": stream.format.name if stream.format else None,
        "format_detected": stream.detected,
        "records": sum(kinds.values()),
        "invalid": invalid,
        "first_errors": first_errors,
        "kinds": dict(kinds),
        "with_system": with_system,
        "duplicate_ids": sum(n - 1 for n in ids.values() if n > 1),
        "roles": dict(roles),
        "user_turns": {str(k): v for k, v in sorted(turns.items())},
        "lengths": {k: describe_lengths(v) for k, v in lengths.items() if v},
        "categories": dict(categories.most_common(TOP)),
        "sources": dict(sources.most_common(TOP)),
        "notes": list(stream.source.notes),
    }
