"""`oshie data stats/formats` and exit codes through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.data import write_records
from oshie.data.stats import compute_stats
from oshie.records import Conversation, Message, PreferencePair, Provenance


def _conv(i: int, answer: str, turns: int = 1, category: str | None = None, system: str | None = None) -> Conversation:
    messages = []
    for t in range(turns):
        messages += [Message(role="user", content=f"質問{i}-{t}"), Message(role="assistant", content=answer)]
    return Conversation(id=f"c{i}", system=system, messages=messages, metadata=Provenance(category=category))


def test_stats_counts_lengths_and_categories(tmp_path: Path) -> None:
    records = [
        _conv(0, "あ" * 10, category="知識"),
        _conv(1, "い" * 20, category="知識", system="丁寧に答えて"),
        _conv(2, "う" * 30, turns=2, category="創作"),
        _conv(3, "え" * 100, turns=3),
        _conv(4, "お" * 60),
    ]
    path = tmp_path / "data.jsonl"
    write_records(path, records)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"messages": "壊れた"}\n')
    s = compute_stats(path)
    assert (s["records"], s["invalid"], s["format"], s["encoding"]) == (5, 1, "messages", "UTF-8")
    assert s["first_errors"] and "line 6" in s["first_errors"][0]
    assert s["roles"] == {"system": 1, "user": 8, "assistant": 8}
    assert s["user_turns"] == {"1": 3, "2": 1, "3": 1}
    answer = s["lengths"]["answer"]
    assert (answer["min"], answer["median"], answer["max"], answer["mean"]) == (10, 30.0, 100, 44.0)
    assert answer["p90"] == 84.0  # numpy's linear interpolation between 60 and 100
    assert answer["histogram"]["0-49"] == 3 and answer["histogram"]["50-99"] == 1 and answer["histogram"]["100-199"] == 1
    assert s["categories"] == {"知識": 2, "(none)": 2, "創作": 1}
    assert s["with_system"] == 1 and s["duplicate_ids"] == 0


def test_stats_cli_on_preference_pairs(tmp_path: Path) -> None:
    pairs = [PreferencePair(id=f"p{i}", prompt=[Message(role="user", content="挨拶して")],
                            chosen=[Message(role="assistant", content="こんにちは" * (i + 1))],
                            rejected=[Message(role="assistant", content="やあ")]) for i in range(3)]
    path = tmp_path / "pairs.parquet"
    write_records(path, pairs, "preference")
    result = CliRunner().invoke(app, ["-q", "data", "stats", str(path), "--json"])
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    assert (s["file_type"], s["format"], s["kinds"]) == ("parquet", "preference", {"preference": 3})
    assert s["lengths"]["chosen"]["max"] == 15 and s["lengths"]["rejected"]["median"] == 2.0
    table = CliRunner().invoke(app, ["-q", "data", "stats", str(path)])
    assert table.exit_code == 0 and "chosen length histogram" in table.stdout


def test_formats_lists_every_format() -> None:
    result = CliRunner().invoke(app, ["data", "formats"])
    assert result.exit_code == 0
    for name in ("ichikara", "alpaca", "sharegpt", "messages", "prompt_completion", "preference"):
        assert name in result.stdout


def test_exit_codes_through_the_entry_point(tmp_path: Path) -> None:
    """1 for invalid data, 2 for a usage error, 0 for clean data; no traceback."""
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text('{"instruction": "質問", "output": "答え"}\n', encoding="utf-8")
    bad.write_text('{"instruction": "質問", "output": ""}\n', encoding="utf-8")
    cmd = [sys.executable, "-c", "from oshie.cli.app import main; main()", "-q", "data", "validate"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120)

    ok, invalid, usage = run(str(good)), run(str(bad)), run(str(good), "--format", "csv-ish")
    assert ok.returncode == 0 and "all records are valid" in ok.stdout
    assert invalid.returncode == 1 and "output" in invalid.stdout
    assert usage.returncode == 2 and "unknown format 'csv-ish'" in usage.stderr
    assert "Traceback" not in invalid.stderr + usage.stderr
