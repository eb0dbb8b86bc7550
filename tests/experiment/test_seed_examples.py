"""The shipped seed-system examples (examples/seeds/*.yaml) run end to end from the CLI with
small `--set` sizes and `oshie experiment status` shows every stage done. The scores of tiny
models mean nothing; the path is what is tested.

Ricoh's judge is a random tiny local model. ATHEUS's generator and judge are a real HTTP
server on 127.0.0.1 with scripted replies: a random tiny model never writes a task list or
screening tags, so its synthesis chain would keep nothing and prove nothing."""

from __future__ import annotations

import csv
import json
from itertools import pairwise as consecutive
from pathlib import Path
from typing import Any

import pytest
from tests.support.openai_server import OpenAITestServer, last_user_text
from tests.synth.scripted import respond as scripted
from tests.synth.scripted import self_instruct_answer
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
              "eval.tasks.0.max_new_tokens": 8, "eval.tasks.1.max_new_tokens": 8}
    out = tmp_path / "ricoh"
    _run_and_status("ricoh.yaml", out, values, monkeypatch)
    config = _load("ricoh.yaml", values)
    # the shipped sets are news- and paper-length, up to near the upper ends of both ranges;
    # no eval.tasks limit above, so every item (the longest included) runs through the model
    lengths = {}
    for name in ("news", "paper"):
        rows = resource_path(f"evalsets/summarization/{name}.jsonl").read_text("utf-8").splitlines()
        lengths[name] = [len(json.loads(r)["text"]) for r in rows]
    assert all(200 <= n <= 3000 for n in lengths["news"]) and len(lengths["news"]) >= 3
    assert all(2500 <= n <= 5500 for n in lengths["paper"]) and len(lengths["paper"]) >= 2
    assert max(lengths["news"]) >= 2800 and max(lengths["paper"]) >= 5000
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


def atheus_model(kind: str, body: dict[str, Any]) -> str:
    """The generator and judge of the ATHEUS run, replying by fixed rules as a model would:
    self-instruct tasks as a numbered list (with near-misses the filters must drop), evolved
    instructions, answers and screening tags (the synthesis tests' script), 1-5 grades, and
    pairwise verdicts that depend only on the two answers, so both orders agree."""
    prompt = last_user_text(body)
    if "# 作成のルール" in prompt:
        return self_instruct_answer(prompt, numbered=True)
    if "<<<回答Aここから>>>" in prompt:
        a = prompt.split("<<<回答Aここから>>>\n", 1)[1].split("\n<<<回答Aここまで>>>", 1)[0]
        b = prompt.split("<<<回答Bここから>>>\n", 1)[1].split("\n<<<回答Bここまで>>>", 1)[0]
        verdict = ("A" if len(set(a)) > len(set(b)) else "B" if len(set(b)) > len(set(a))
                   else "引き分け")
        return f"使われている文字の種類が多い方を選びます。\n判定: {verdict}"
    if "採点の観点" in prompt:  # the 1-5 grade of the eval judge
        return f"評価: {1 + len(prompt) % 5}"
    return scripted(kind, body)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.mark.slow
def test_atheus_example_synthesizes_screens_trains_on_seeds_plus_kept_and_judges_pairwise(
    tmp_path: Path, monkeypatch
) -> None:
    chain = "variants.1.synthesis.steps"
    out = tmp_path / "atheus"
    with OpenAITestServer(atheus_model) as srv:
        llm = json.dumps({"backend": "openai", "base_url": srv.base_url, "model": "generator",
                          "max_retries": 0})
        values = {**TINY_TRAINING, "variants.1.synthesis.llm": llm, "eval.judge.llm": llm,
                  "eval.judge.limit": 2, "eval.judge.max_new_tokens": 8,
                  "eval.tasks.0.limit": 2, "eval.tasks.0.max_new_tokens": 8,
                  f"{chain}.0.settings.target": 10, f"{chain}.0.settings.requests_per_round": 3,
                  f"{chain}.0.settings.patience": 1}
        _run_and_status("atheus.yaml", out, values, monkeypatch)
        calls = list(srv.calls)
    assert calls and all(c.answered for c in calls)
    config = _load("atheus.yaml", values)
    seeds = len(_lines(resource_path("instructions/clean.jsonl")))
    steps = ["0-self_instruct", "1-evol", "2-respond", "3-screen"]
    dirs = [stage_path(out, config, f"synth/synthesized/{s}") for s in steps]
    summaries = [json.loads((d / "records.manifest.json").read_text("utf-8"))["summary"]
                 for d in dirs]
    for d, s in zip(dirs, summaries, strict=True):
        assert read_marker(d)["outputs"]["kept"] == s["kept"] > 0, d.name
        assert s["llm_calls"] > 0, d.name  # the server was really asked
        assert len(_lines(d / "records.jsonl")) == s["kept"]  # every record accounted for
        assert len(_lines(d / "records.rejected.jsonl")) == sum(s["dropped"].values())
    si = summaries[0]
    assert si["inputs"] == seeds
    # per candidate parsed from the numbered lists: kept or dropped with a reason (the image
    # task, the English one and the copy are dropped: near-misses the filters must catch)
    assert si["generated"] == si["kept"] + sum(si["dropped"].values())
    assert {"blocklist", "not_japanese", "not_novel"} <= set(si["dropped"])
    assert si["kept"] == 10  # the target
    for earlier, later in consecutive(summaries):  # each step reads what the one before kept
        assert later["inputs"] == earlier["kept"]
        assert later["inputs"] == later["kept"] + sum(later["dropped"].values())
    # screening tagged every record and the keep-expression decided: kept >= 3, dropped < 3
    kept = _lines(dirs[3] / "records.jsonl")
    assert summaries[3]["dropped"].get("keep_expression")  # the script grades some below 3
    assert all(r["metadata"]["screen"]["quality"] >= 3 for r in kept)
    assert all(r["record"]["metadata"]["screen"]["quality"] < 3
               for r in _lines(dirs[3] / "records.rejected.jsonl"))
    assert all(len(r["messages"]) == 2 for r in kept)  # evolved instruction + its answer
    # the SFT variant trains on the seeds plus the screened records, minus the audit's drops
    data_dir = stage_path(out, config, "data/synthesized")
    stats = json.loads((data_dir / "stats.json").read_text("utf-8"))
    assert stats["records"] == seeds + len(kept) - stats["dropped_by_audit"] > seeds
    trained_ids = {r["id"] for r in _lines(data_dir / "train.jsonl")}
    assert len(trained_ids) == stats["records"]
    assert len({r["id"] for r in kept} & trained_ids) == len(kept) - stats["dropped_by_audit"]
    for variant, n in (("seeds", seeds), ("synthesized", stats["records"])):
        train = json.loads((stage_path(out, config, f"sft/tiny/{variant}") / "train"
                            / "manifest.json").read_text("utf-8"))
        assert train["result"]["data"]["train_examples"] == n, variant
        # the 1-5 judge parsed a grade for every task
        judged = json.loads((stage_path(out, config, f"judge/tiny/{variant}") / "results.json")
                            .read_text("utf-8"))
        assert judged["judge"]["score"]["n"] == 2, variant
    # pairwise: 2 tasks judged in both orders; the verdicts depend on the answers only, so
    # every task is decided or a consistent tie, and the server saw each order once
    pairwise_calls = [c for c in calls if "<<<回答Aここから>>>" in last_user_text(c.body)]
    assert len(pairwise_calls) == 4
    pairwise = json.loads(
        (stage_path(out, config, "pairwise/tiny") / "results.json").read_text("utf-8"))
    entry = pairwise["seeds_vs_synthesized"]
    assert entry["undecided"]["n"] == 2
    assert entry["undecided"]["count"] == entry["inconsistent"]["count"] == 0
    assert entry["win_rate"]["n"] == 2
