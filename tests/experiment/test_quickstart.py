"""The quickstart's own code path and shipped resources end to end, at reduced size, then
the report checked in headless Chromium (table, plots, audit, links)."""

from __future__ import annotations

import base64
import csv
import re
from pathlib import Path

import pytest
from tests.support.browser import dump_dom
from tests.support.cli import run_cli
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.experiment.quickstart import run_quickstart

# same plan as `oshie quickstart`, only smaller: a narrower model, a few steps, a few items
SMALL = {
    "base_models.0.build.vocab_size": 500,
    "base_models.0.build.model_overrides": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
    },
    "base_models.0.build.pretrain.max_steps": 4,
    "base_models.0.build.pretrain.batch_size": 8,
    "recipe.sft.max_steps": 4,
    "recipe.sft.batch_size": 4,
    "recipe.sft.max_length": 128,
    **{f"eval.tasks.{i}.limit": 6 for i in range(7)},
}
VARIANTS = ["base", "clean", "flawed", "flawed-audited"]


@pytest.fixture(scope="module")
def quickstart_run(tmp_path_factory: pytest.TempPathFactory):
    return run_quickstart(tmp_path_factory.mktemp("quickstart"), SMALL)


def test_quickstart_runs_every_stage_and_writes_the_table(quickstart_run) -> None:
    run = quickstart_run
    kinds = sorted({sid.split("/")[0] for sid in run.ran})
    assert kinds == ["audit", "base", "data", "eval", "pretrain", "sft"]
    rows = list(csv.DictReader(open(run.results_csv, encoding="utf-8")))
    assert [r["variant"] for r in rows] == VARIANTS
    for r in rows:
        assert r["jcommonsenseqa/acc"] != "" and r["summarization/rougeL_char"] != ""
        if r["variant"] == "base":
            assert r["jcommonsenseqa/acc delta_vs_base"] == ""
        else:
            lo, v, hi = (float(r[f"jcommonsenseqa/acc{s}"]) for s in (" ci95_lo", "", " ci95_hi"))
            assert lo <= v <= hi
            assert r["jcommonsenseqa/acc delta_vs_base"] != ""
    by = {r["variant"]: r for r in rows}
    # the audit flags the planted defects of the flawed set, so its filtered variant is smaller
    assert int(by["flawed-audited"]["train_records"]) < int(by["flawed"]["train_records"])
    audit = {a["variant"]: a for a in run.results["audit"]}
    assert audit["flawed"]["flagged"] > 5 * max(1, audit["clean"]["flagged"])


def test_report_renders_in_chromium_with_table_plots_and_links(quickstart_run) -> None:
    report = quickstart_run.report
    dom = dump_dom(report)
    table = re.search(r'<table id="results-table">(.*?)</table>', dom, re.S)
    assert table, "results table missing from the rendered DOM"
    assert re.findall(r'data-variant="([^"]+)"', table.group(1)) == VARIANTS
    assert "Δ" in table.group(1)
    for fig in ("metric-bars", "loss-curves"):
        m = re.search(rf'<figure id="{fig}"><img[^>]*src="data:image/png;base64,([^"]+)"', dom)
        assert m, f"{fig} plot missing"
        png = base64.b64decode(m.group(1))
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert 'id="audit"' in dom and "flawed-audited" in dom
    # paired comparisons: every pair of rows on every per-item metric, Holm-corrected
    comps = re.search(r'<table id="comparisons-table">(.*?)</table>', dom, re.S)
    assert comps, "paired comparisons missing"
    pairs = set(re.findall(r'data-a="([^"]+)" data-b="([^"]+)"', comps.group(1)))
    assert ("base", "clean") in pairs and ("clean", "flawed") in pairs and len(pairs) == 6
    # a delta is coloured only when its corrected test says so
    for cls in re.findall(r'<span class="delta ([^"]+)"', table.group(1)):
        assert cls == "muted" or cls.startswith("significant ")
    hrefs = re.findall(r'href="([^"#]+)"', dom)
    assert any(h.endswith("items.jsonl") for h in hrefs)
    for h in hrefs:
        assert (report.parent / h).is_file(), f"broken link {h}"


def test_cli_status_and_rerun_reuse_the_finished_stages(quickstart_run) -> None:
    out = quickstart_run.out_dir
    sets = [a for k, v in SMALL.items() for a in ("--set", f"{k}={_yaml(v)}")]
    result = CliRunner().invoke(app, ["quickstart", "--out", str(out), *sets])
    assert result.exit_code == 0, result.output
    assert "report:" in result.output and "next:" in result.output
    from oshie.experiment.config import resource_path

    status = CliRunner().invoke(
        app,
        [
            "experiment",
            "status",
            str(resource_path("experiments/quickstart.yaml")),
            "--out",
            str(out),
            *sets,
        ],
    )
    assert status.exit_code == 0, status.output
    n = len(quickstart_run.plan.stages)
    assert f"{n}/{n} stages done" in status.output


def test_the_printed_next_steps_work_as_printed(
    quickstart_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paste every printed command: the audit of the flawed set runs, and the copied plan
    run into a new --out reuses every stage of the quickstart through the stage store."""
    import shlex
    import shutil

    from oshie import console

    monkeypatch.setattr(console.out, "width", 10_000)  # one command per line, as printed
    out = quickstart_run.out_dir
    sets = [a for k, v in SMALL.items() for a in ("--set", f"{k}={_yaml(v)}")]
    printed = CliRunner().invoke(app, ["quickstart", "--out", str(out), *sets])
    assert printed.exit_code == 0, printed.output
    steps = printed.output.split("next:", 1)[1].strip().splitlines()
    commands = [shlex.split(line, comments=True) for line in steps]
    monkeypatch.chdir(tmp_path)
    ran = []
    for argv in commands:
        if argv[0] == "open":
            assert Path(argv[1]).is_file()
        elif argv[0] == "cp":
            shutil.copy(argv[1], argv[2])
        else:
            assert argv[0] == "oshie", argv
            result = CliRunner().invoke(app, argv[1:])
            assert result.exit_code == 0, (argv, result.output)
            ran.append((argv, result.output))
    assert [a[1] for a, _ in ran] == ["data", "experiment"]
    mine = Path(ran[1][0][ran[1][0].index("--out") + 1])
    assert "0 stages ran" in ran[1][1], ran[1][1]
    assert (mine / "report.html").is_file()
    assert (Path(ran[0][0][ran[0][0].index("--out") + 1]) / "findings.jsonl").is_file()


def test_cli_reports_a_bad_config_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nbase_models: []\nvariants: []\neval: {tasks: []}\nextra_key: 1\n", "utf-8"
    )
    # run_cli re-raises anything but an OshieError, so a crash fails here instead of passing
    code, _, err = run_cli(["experiment", "run", str(bad)])
    assert code == 2 and str(bad) in err and "base_models" in err


def _yaml(v) -> str:
    import json

    return json.dumps(v) if isinstance(v, dict) else str(v)
