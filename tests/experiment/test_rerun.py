"""Editing one variant of a finished experiment reruns only the stages that depend on it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from oshie.experiment.cache import MARKER
from oshie.experiment.config import load_experiment
from oshie.experiment.runner import experiment_status, run_experiment, stale_stage_dirs

from .helpers import stage_path, tiny_experiment


def _markers(out: Path) -> dict[str, float]:
    return {p.parent.name: p.stat().st_mtime_ns for p in (out / "stages").glob(f"*/{MARKER}")}


def test_edit_one_variant_reruns_only_its_stages(tmp_path: Path, tiny_model_dir: Path) -> None:
    out = tmp_path / "run"
    config = load_experiment(tiny_experiment(tmp_path, tiny_model_dir))
    first = run_experiment(config, out)
    assert set(first.ran) == {s.id for s in first.plan.stages} and not first.skipped
    assert all(s.state == "done" for s in experiment_status(config, out))
    rows = list(csv.DictReader(open(out / "results.csv", encoding="utf-8")))
    assert [(r["model"], r["variant"]) for r in rows] == [("m", "base"), ("m", "A"), ("m", "B")]
    before = _markers(out)

    # nothing changed: everything is reused, no stage directory is touched
    again = run_experiment(config, out)
    assert again.ran == [] and set(again.skipped) == set(first.ran)
    assert _markers(out) == before

    # edit variant B's data file: B's data, SFT and eval stages rerun, nothing else does
    previous_b = {stage_path(out, config, s).name for s in ("data/B", "sft/m/B", "eval/m/B")}
    edited = load_experiment(tiny_experiment(tmp_path, tiny_model_dir, b_start=90))
    assert [s.state for s in experiment_status(edited, out) if s.id.endswith("/B")] == [
        "pending"
    ] * 3
    third = run_experiment(edited, out)
    assert set(third.ran) == {"data/B", "sft/m/B", "eval/m/B"}
    assert set(third.skipped) == {"base/m", "data/A", "sft/m/A", "eval/m/A", "eval/m/base"}
    after = _markers(out)
    rewritten = {d for d in before if after.get(d) != before[d]}
    new = set(after) - set(before)
    assert rewritten == set()  # no finished stage was recomputed (old B dirs stay as cache)
    assert new == {stage_path(out, edited, s).name for s in ("data/B", "sft/m/B", "eval/m/B")}

    # the report keeps rows A and base identical and has B's new numbers
    rows2 = {r["variant"]: r for r in csv.DictReader(open(out / "results.csv", encoding="utf-8"))}
    old = {r["variant"]: r for r in rows}
    assert rows2["A"] == old["A"] and rows2["base"] == old["base"]
    stale = {d.name for d in stale_stage_dirs(edited, out)}
    assert stale == previous_b  # the previous B, kept as cache
    plan = json.loads((out / "plan.json").read_text("utf-8"))
    assert plan["sft/m/B"]["state"] == "ran" and plan["sft/m/A"]["state"] == "cached"


def test_a_stage_without_its_completion_marker_is_not_finished(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    out = tmp_path / "run"
    config = load_experiment(
        tiny_experiment(
            tmp_path,
            tiny_model_dir,
            variants=[{"name": "A", "datasets": [{"path": str(tmp_path / "a.jsonl")}]}],
        )
    )
    run_experiment(config, out)
    eval_dir = stage_path(out, config, "eval/m/A")
    (eval_dir / MARKER).unlink()  # as if killed after the results but before the marker
    states = {s.id: s.state for s in experiment_status(config, out)}
    assert states["eval/m/A"] == "partial" and states["sft/m/A"] == "done"
    rerun = run_experiment(config, out)
    assert rerun.ran == ["eval/m/A"] and rerun.resumed == ["eval/m/A"]
