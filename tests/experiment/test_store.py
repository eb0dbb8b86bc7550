"""A stage store shared by run directories: a second --out reuses every finished stage."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.experiment.config import load_experiment
from oshie.experiment.runner import experiment_status, run_experiment

from .helpers import tiny_experiment


def test_a_second_out_reuses_the_stages_of_the_first(tmp_path: Path, tiny_model_dir: Path) -> None:
    cfg = tiny_experiment(tmp_path, tiny_model_dir)
    cfg["eval"]["tasks"] = cfg["eval"]["tasks"][:1]
    config = load_experiment(cfg)
    store = tmp_path / "store"
    first = run_experiment(config, tmp_path / "one", cache_dir=store)
    assert first.ran and not first.skipped
    second = run_experiment(config, tmp_path / "two", cache_dir=store)
    assert second.ran == [] and sorted(second.skipped) == sorted(first.ran)
    assert second.results["rows"] == first.results["rows"]
    # the report's links go through the run's stage links into the store and resolve
    report = second.report
    assert report is not None
    hrefs = re.findall(r'href="([^"#]+)"', report.read_text("utf-8"))
    assert any(h.endswith("items.jsonl") for h in hrefs)
    for h in hrefs:
        assert (report.parent / h).is_file(), h
    assert all(s.state == "done" for s in experiment_status(config, tmp_path / "two", store))
    # without the store, a fresh directory has nothing finished
    assert all(s.state == "pending" for s in experiment_status(config, tmp_path / "three"))


def test_the_store_comes_from_the_environment_too(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch
) -> None:
    import yaml

    cfg = tiny_experiment(tmp_path, tiny_model_dir)
    cfg["eval"]["tasks"] = cfg["eval"]["tasks"][:1]
    cfg["variants"] = cfg["variants"][:1]
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(cfg), "utf-8")
    monkeypatch.setenv("OSHIE_STAGE_CACHE", str(tmp_path / "store"))
    one = CliRunner().invoke(app, ["experiment", "run", str(path), "--out", str(tmp_path / "a")])
    assert one.exit_code == 0, one.output
    two = CliRunner().invoke(app, ["experiment", "run", str(path), "--out", str(tmp_path / "b")])
    assert two.exit_code == 0 and "0 stages ran" in two.output, two.output
    status = CliRunner().invoke(app, ["experiment", "status", str(path), "--out", str(tmp_path / "b")])
    n = len(load_experiment(path).variants) * 3 + 2  # base, data, sft, eval per variant + base eval
    assert f"{n}/{n} stages done" in status.output, status.output
