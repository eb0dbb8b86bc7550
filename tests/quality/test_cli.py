"""`oshie data check` / `checks` / `dedup` end to end: real files in, run directory out."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oshie.cli.app import app

from .conftest import DATA


def oshie(*args: str) -> subprocess.CompletedProcess[str]:
    # through the entry point, so OshieError -> message + exit code is what a user sees
    return subprocess.run([sys.executable, "-m", "oshie.cli.app", "--quiet", *args],
                          capture_output=True, text=True, timeout=300)


def shipped(path: str) -> str:
    return str(resources.files("oshie").joinpath(f"resources/{path}"))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def check_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("check")
    result = oshie("data", "check", str(DATA / "planted.jsonl"), shipped("instructions/clean.jsonl"),
                   "--out", str(out), "--drop", "warning",
                   "--eval-set", str(DATA / "eval_jcqa.jsonl"), "--eval-set", str(DATA / "eval_elyza.csv"))
    return out, result


def test_check_writes_a_complete_run(check_run):
    out, result = check_run
    assert result.returncode == 0, result.stderr
    for name in ("findings.jsonl", "summary.json", "report.html", "manifest.json", "kept.jsonl",
                 "quarantine.jsonl", "duplicate_clusters.jsonl"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    planted_rows = len((DATA / "planted.jsonl").read_text("utf-8").splitlines())
    clean_rows = len(Path(shipped("instructions/clean.jsonl")).read_text("utf-8").splitlines())
    rows_in = planted_rows + clean_rows
    # the planted empty fields are not valid records: reported as invalid rows, quarantined
    assert summary["records"] + summary["invalid_rows"] == rows_in and summary["invalid_rows"] > 0
    kept, quarantined = read_jsonl(out / "kept.jsonl"), read_jsonl(out / "quarantine.jsonl")
    assert len(kept) + len(quarantined) == rows_in == summary["drop"]["kept"] + summary["drop"]["quarantined"]
    assert all(q["reasons"] and all(r["severity"] in ("warning", "error") for r in q["reasons"]) for q in quarantined)
    assert "records" in result.stdout and "report.html" in result.stdout


def test_findings_jsonl_fields_and_manifest(check_run):
    out, _ = check_run
    findings = read_jsonl(out / "findings.jsonl")
    assert findings and set(findings[0]) == {"record_id", "source", "index", "check", "severity", "message", "span", "details", "context"}
    assert {f["source"] for f in findings} >= {"planted.jsonl"}
    with_span = [f for f in findings if f["span"]]
    assert all(set(f["span"]) == {"field", "start", "end", "text"} for f in with_span)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["stage"] == "data.check" and len(manifest["inputs"]) == 2
    assert all(len(v["sha256"]) == 64 for v in manifest["inputs"].values())
    assert manifest["config"]["eval_sets"]


def test_dedup_command(tmp_path):
    src = tmp_path / "a.jsonl"
    rows = [{"id": f"r{i}", "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
            for i, (q, a) in enumerate([
                ("桜について教えてください。", "桜は春に咲く花で、各地でお花見が楽しまれています。"),
                ("桜について教えて下さい。", "桜は春に咲く花で、各地でお花見が楽しまれています．"),
                ("味噌汁の作り方は？", "だしを取り、具を煮てから味噌を溶かします。沸騰させないのがこつです。"),
            ])]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    other = tmp_path / "b.jsonl"
    other.write_text(json.dumps(rows[2], ensure_ascii=False).replace('"r2"', '"b0"') + "\n", "utf-8")
    out = tmp_path / "dedup"
    result = oshie("data", "dedup", str(src), str(other), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in read_jsonl(out / "kept.jsonl")] == ["r0", "r2"]
    removed = {r["record"]["id"]: r["duplicate_of"] for r in read_jsonl(out / "removed.jsonl")}
    assert removed == {"r1": "r0", "b0": "r2"}
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["cross_file_clusters"] == 1 and summary["kept"] + summary["removed"] == 4


@pytest.mark.parametrize(("args", "code", "text"), [
    (["--set", "checks.pii.kindz=[email]"], 2, "checks.pii.kindz"),
    (["--set", "checks.nope.enabled=false"], 2, "unknown check 'nope'"),
    (["--drop", "fatal"], 2, "--drop must be one of"),
    (["--eval-set", "missing.csv"], 1, "evaluation set not found"),
])
def test_errors_are_messages_with_exit_codes(tmp_path, args, code, text):
    result = oshie("data", "check", shipped("instructions/clean.jsonl"), "--out", str(tmp_path / "o"), *args)
    assert result.returncode == code, result.stderr
    assert text in result.stderr and "Traceback" not in result.stderr


def test_checks_lists_every_check_and_help_is_fast():
    result = CliRunner().invoke(app, ["data", "checks"], terminal_width=200)
    assert result.exit_code == 0
    from oshie.data.check import REGISTRY

    for code in REGISTRY:
        assert code in result.output
    assert "--eval-set" in CliRunner().invoke(app, ["data", "check", "--help"], terminal_width=200).output
    # `oshie --help` must not import the heavy parts
    probe = subprocess.run([sys.executable, "-c", "import sys, oshie.cli.app; "
                            "print(any(m in sys.modules for m in ('torch', 'fugashi', 'oshie.data.check')))"],
                           capture_output=True, text=True, timeout=120)
    assert probe.stdout.strip() == "False", probe.stderr


def test_dedup_quarantines_unreadable_rows(tmp_path):
    """Rows that are not records cannot be compared, but none is lost: in = kept + removed + quarantined."""
    src = tmp_path / "a.jsonl"
    good = {"id": "g", "messages": [{"role": "user", "content": "富士山の高さは？"},
                                    {"role": "assistant", "content": "3776メートルです。"}]}
    src.write_text(json.dumps(good, ensure_ascii=False) + "\n{broken json\n"
                   + json.dumps({**good, "id": "g2"}, ensure_ascii=False) + "\n", "utf-8")
    out = tmp_path / "dedup"
    result = oshie("data", "dedup", str(src), "--out", str(out))
    assert result.returncode == 0, result.stderr
    quarantined = read_jsonl(out / "quarantine.jsonl")
    assert [(q["line"], q["raw"]) for q in quarantined] == [(2, "{broken json")]
    assert quarantined[0]["reasons"][0]["check"] == "invalid_record"
    kept, removed = read_jsonl(out / "kept.jsonl"), read_jsonl(out / "removed.jsonl")
    assert len(kept) + len(removed) + len(quarantined) == 3
