"""Record ids: from the source's id/ID/index field, else the record's place in the file, never
one made-up id twice; Dolly-style `category` lands in metadata.category; duplicate source
ids are reported by `oshie data validate` with both lines."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import run_cli

from oshie.data import load_records
from oshie.data.stats import compute_stats
from oshie.data.validate import validate_file


def test_a_minified_json_array_gives_every_record_its_own_id(tmp_path: Path) -> None:
    rows = [{"instruction": f"質問{i}", "output": f"回答{i}"} for i in range(1000)]
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(rows, ensure_ascii=False, separators=(",", ":")), "utf-8")  # one line
    ids = [r.id for r in load_records(path)]
    assert len(set(ids)) == 1000
    assert ids[:2] == ["mini-1", "mini-2"] and ids[-1] == "mini-1000"


def test_jsonl_ids_still_follow_the_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"instruction": "a", "output": "b"}\n\n{"instruction": "c", "output": "d"}\n', "utf-8")
    assert [r.id for r in load_records(path)] == ["d-1", "d-3"]


def _dolly(tmp_path: Path) -> Path:
    rows = [
        {"index": 10, "instruction": "日本の首都は？", "input": "", "output": "東京です。", "category": "open_qa"},
        {"index": 11, "instruction": "要約して", "input": "長い文章", "output": "短い文章", "category": "summarization"},
        {"index": 12, "instruction": "分類して", "input": "", "output": "果物", "category": "classification"},
    ]
    path = tmp_path / "dolly.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_dolly_index_is_the_id_and_category_goes_to_metadata(tmp_path: Path) -> None:
    records = load_records(_dolly(tmp_path))
    assert [r.id for r in records] == ["10", "11", "12"]
    assert [r.metadata.category for r in records] == ["open_qa", "summarization", "classification"]
    assert all("extra" not in r.metadata.model_dump(exclude_none=True) for r in records)
    assert compute_stats(tmp_path / "dolly.jsonl")["categories"] == {
        "open_qa": 1, "summarization": 1, "classification": 1}


def test_stats_cli_shows_the_categories(tmp_path: Path) -> None:
    code, out, _ = run_cli(["data", "stats", str(_dolly(tmp_path))])
    assert code == 0 and "summarization" in out and "classification" in out


def test_an_id_field_beside_index_is_kept_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "both.jsonl"
    path.write_text(json.dumps({"id": "a", "index": 3, "instruction": "q", "output": "r"}) + "\n", "utf-8")
    (record,) = load_records(path)
    assert record.id == "a" and record.metadata.model_dump()["extra"] == {"index": 3}


def test_validate_warns_about_duplicate_ids_with_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "dup.jsonl"
    rows = [{"id": "x", "instruction": "q1", "output": "a1"}, {"id": "y", "instruction": "q2", "output": "a2"},
            {"id": "x", "instruction": "q3", "output": "a3"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    summary = validate_file(path)
    assert summary.duplicate_ids == [("x", 1, 3)] and summary.quarantined == 0
    code, out, _ = run_cli(["data", "validate", str(path)])
    assert code == 0  # a warning, not an invalid record
    code, out, _ = run_cli(["data", "validate", str(path), "--json"])
    assert json.loads(out)["duplicate_ids"] == [{"id": "x", "first_line": 1, "line": 3}]


def test_no_duplicate_warning_for_distinct_ids(tmp_path: Path) -> None:
    assert validate_file(_dolly(tmp_path)).duplicate_ids == []
