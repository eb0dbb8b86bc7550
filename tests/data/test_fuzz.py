"""Whatever the bytes, reading ends in per-record results or one DataError, never a crash."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oshie.data import iter_records
from oshie.errors import DataError

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
# rows that look like records: the real field names with random values
record_like = st.dictionaries(
    st.sampled_from(["id", "ID", "instruction", "input", "output", "text", "messages", "conversations",
                     "prompt", "completion", "chosen", "rejected", "system", "metadata", "meta",
                     "role", "content"]),
    json_values | st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", "x"]),
                                                  "content": json_values}), max_size=3),
    min_size=1, max_size=5,
)


def _read_all(path: Path) -> None:
    try:
        stream = iter_records(path)
    except DataError:
        return
    results = list(stream)
    for r in results:
        assert (r.record is None) != (r.error is None)
        if r.error is not None:
            assert r.error.line is not None and r.error.hint


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([".jsonl", ".json", ".csv", ".tsv"]))
def test_random_bytes(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"f{suffix}"
        path.write_bytes(data)
        _read_all(path)


@FUZZ
@given(st.lists(record_like, min_size=1, max_size=4))
def test_record_like_rows(rows: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        _read_all(path)
