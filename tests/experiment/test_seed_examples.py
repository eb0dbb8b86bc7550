"""The shipped seed-system examples (examples/seeds/*.yaml) run end to end from the CLI with
small `--set` sizes, a local model as generator and judge, and `oshie experiment status`
shows every stage done. The scores of tiny models mean nothing; the path is what is tested."""

from __future__ import annotations

import csv
import json
from itertools import pairwise as consecutive
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oshie import console
from oshie.cli.app import app
from oshie.config import parse_overrides
from oshie.eval.lm import load_local_model
from oshie.eval.tasks import TaskSpec
from oshie.eval.tasks.summarization import Summarization
from oshie.experiment.cache import read_marker
from oshie.experiment.config import load_experiment, resource_path
from oshie.experiment.runner import experiment_status

from .helpers import stage_path

SEEDS = Path(__file__).resolve().parents[2] / "examples" / "seeds"
TINY_TRAINING = {"base_models.0.build.pretrain.max_steps": 2, "recipe.sft.epochs": 1,
                 "recipe.sft.max_steps": 2, "recipe.sft.save_steps": 2}


@pytest.fixture(scope="module")
def local_llm_dir(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    """The local generator and judge: a tiny model with room for the judge's prompts."""
    from oshie.train.tiny import init_model

    return init_model(tiny_tokenizer_dir, tmp_path_factory.mktemp("llm"), preset="tiny",
                      seed=1, max_position_embeddings=2048)


def _sets(values: dict[str, object]) -> list[str]:
    return [a for k, v in values.items() for a in ("--set", f"{k}={v}")]


def _load(example: str, values: dict[str, object]):
    """The plan as the CLI loaded it from the same `--set` strings."""
    return load_experiment(SEEDS / example, parse_overrides([f"{k}={v}" for k, v in values.items()]))


def _run_and_status(example: str, out: Path, values: dict[str, object], monkeypatch) -> None:
    """`oshie experiment run` then `oshie experiment status`: every stage of the plan done."""
    monkeypatch.setattr(console.out, "width", 200)  # the status table on one line per stage
    path = SEEDS / example
    sets = _sets(values)
    run = CliRunner().invoke(app, ["-q", "experiment", "run", str(path), "--out", str(out), *sets])
    assert run.exit_code == 0, run.output
    status = CliRunner().invoke(app, ["experiment", "status", str(path), "--out", str(out), *sets])
    assert status.exit_code == 0, status.output
    config = _load(example, values)
    rows = experiment_status(config, out)
    assert rows and all(s.state == "done" for s in rows), [(s.id, s.state) for s in rows]
    assert f"{len(rows)}/{len(rows)} stages done" in status.output
    for s in rows:  # each stage's row in the printed table says done
        assert any(s.id in line and " done " in line for line in status.output.splitlines()), s.id


@pytest.mark.slow
def test_ricoh_example_runs_with_a_window_that_covers_every_summary(
    tmp_path: Path, local_llm_dir: Path, monkeypatch
) -> None:
    values = {**TINY_TRAINING, "eval.judge.llm.model": local_llm_dir, "eval.judge.limit": 2,
              "eval.judge.max_new_tokens": 8, "eval.judge.judge_max_tokens": 16,
              "eval.tasks.0.limit": 2, "eval.tasks.1.limit": 1,
              "eval.tasks.0.max_new_tokens": 8, "eval.tasks.1.max_new_tokens": 8}
    out = tmp_path / "ricoh"
    _run_and_status("ricoh.yaml", out, values, monkeypatch)
    config = _load("ricoh.yaml", values)
    # the shipped sets are news- and paper-length
    lengths = {}
    for name in ("news", "paper"):
        rows = resource_path(f"evalsets/summarization/{name}.jsonl").read_text("utf-8").splitlines()
        lengths[name] = [len(json.loads(r)["text"]) for r in rows]
    assert all(200 <= n <= 3000 for n in lengths["news"]) and len(lengths["news"]) >= 3
    assert all(2500 <= n <= 5500 for n in lengths["paper"]) and len(lengths["paper"]) >= 2
    # the base's position range covers the longest prompt with its generation budget, and
    # the preset's default range would not: the YAML's override is what makes them fit
    base = load_local_model(stage_path(out, config, "base/tiny") / "model")
    assert base.max_length == 6144
    paper = Summarization(TaskSpec(task="summarization",
                                   data=resource_path("evalsets/summarization/paper.jsonl")))
    longest = max(len(base.encode_text(paper.prompt(it))) for it in paper.items)
    assert 512 < longest and longest + 192 <= base.max_length
    # nothing was cut (truncation: error would have refused an over-long item)
    for variant in ("base", "set-a", "set-b"):
        results = json.loads(
            (stage_path(out, config, f"eval/tiny/{variant}") / "results.json").read_text("utf-8"))
        for task in ("news", "paper"):
            t = results[task]["truncated"]
            assert (t["count"], t["tokens_cut"], t["truncation"], t["max_length"]) == (
                0, 0, "error", 6144)
            assert "rougeL_char" in results[task]
    table = list(csv.DictReader(open(out / "results.csv", encoding="utf-8")))
    assert [r["variant"] for r in table] == ["base", "set-a", "set-b"]
    header = next(csv.reader(open(out / "results.csv", encoding="utf-8")))
    assert header.count("judge/score") == 1  # graded 1-5 (empty when no verdict parsed)
    for name in ("news/rougeL_char", "paper/rougeL_char"):
        assert all(r[name] != "" for r in table)


@pytest.mark.slow
def test_atheus_example_runs_seeds_synthesis_screening_sft_and_pairwise(
    tmp_path: Path, local_llm_dir: Path, monkeypatch
) -> None:
    chain = "variants.1.synthesis.steps"
    values = {**TINY_TRAINING, "variants.1.synthesis.llm.model": local_llm_dir,
              "eval.judge.llm.model": local_llm_dir, "eval.judge.limit": 2,
              "eval.judge.max_new_tokens": 8, "eval.judge.judge_max_tokens": 16,
              "eval.tasks.0.limit": 2, "eval.tasks.0.max_new_tokens": 8,
              f"{chain}.0.settings.target": 4, f"{chain}.0.settings.requests_per_round": 2,
              f"{chain}.0.settings.max_tokens": 64, f"{chain}.0.settings.patience": 1,
              f"{chain}.1.settings.max_tokens": 32, f"{chain}.2.settings.max_tokens": 32,
              f"{chain}.3.settings.max_tokens": 32}
    out = tmp_path / "atheus"
    _run_and_status("atheus.yaml", out, values, monkeypatch)
    config = _load("atheus.yaml", values)
    steps = ["0-self_instruct", "1-evol", "2-respond", "3-screen"]
    outputs = [read_marker(stage_path(out, config, f"synth/synthesized/{s}"))["outputs"]
               for s in steps]
    assert outputs[0]["llm_calls"] > 0  # the local generator was really asked
    for earlier, later in consecutive(outputs):  # each step reads what the one before kept
        if earlier["kept"] == 0:
            assert later == {"records": "records.jsonl", "kept": 0, "generated": 0, "llm_calls": 0}
    seeds = sum(1 for _ in resource_path("instructions/clean.jsonl").open(encoding="utf-8"))
    stats = json.loads((stage_path(out, config, "data/synthesized") / "stats.json").read_text("utf-8"))
    assert stats["records"] == seeds + outputs[-1]["kept"] - stats["dropped_by_audit"]
    pairwise = json.loads(
        (stage_path(out, config, "pairwise/tiny") / "results.json").read_text("utf-8"))
    entry = pairwise["seeds_vs_synthesized"]
    # 2 tasks judged in both orders: decided or counted as undecided, never dropped
    assert entry["undecided"]["n"] == 2
    assert entry["win_rate"]["n"] + entry["undecided"]["count"] == 2
