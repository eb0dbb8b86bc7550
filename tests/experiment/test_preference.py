"""Preferences from the SFT model's own candidates: the tuned tiny model samples answers
(local backend), a judge on a real HTTP server grades each, best and worst become a pair
with provenance, DPO trains on those pairs and its reward margin rises. A rerun of the
stage asks the judge nothing (every verdict is in the SQLite cache)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.support.openai_server import OpenAITestServer, last_user_text

from oshie.errors import DataError
from oshie.experiment.cache import MARKER
from oshie.experiment.config import load_experiment, resource_path
from oshie.experiment.runner import run_experiment
from oshie.llm.base import GenerationParams, LLMRequest
from oshie.llm.local import LocalLLM
from oshie.runs import fingerprint

from .helpers import EVAL, stage_path, write_jsonl


def judge(kind: str, body: dict[str, Any]) -> str:
    """A rule the test can predict: 10 for clean text, 3 points off per broken character."""
    prompt = last_user_text(body)
    answer = prompt.split("<<<回答ここから>>>\n", 1)[1].split("\n<<<回答ここまで>>>", 1)[0]
    score = max(1, 10 - 3 * answer.count("\ufffd"))
    return json.dumps({"score": score, "reason": "壊れた文字の数で採点"}, ensure_ascii=False)


def short_records(n: int) -> list[dict[str, Any]]:
    """The shipped records with the shortest answers: a tiny model learns to finish them
    (and to stop) in a few dozen steps, yet still samples some broken ones."""
    rows = [json.loads(x) for x in resource_path("instructions/clean.jsonl").read_text("utf-8").splitlines()]
    return sorted(rows, key=lambda r: len(r["messages"][-1]["content"]))[:n]


def config(tmp: Path, model: Path, judge_url: str, **preference: Any) -> dict[str, Any]:
    data = write_jsonl(tmp / "short.jsonl", short_records(12))
    return {
        "name": "prefs-test",
        "threads": 1,
        "audit": False,
        "base_models": [{"name": "m", "path": str(model)}],
        "variants": [{"name": "A", "datasets": [{"path": str(data)}]}],
        "recipe": {
            "sft": {"learning_rate": 3e-3, "max_steps": 60, "batch_size": 4, "max_length": 96,
                    "save_steps": 60, "logging_steps": 10},
            # prompts: the variant's own (no file given), first 8
            "preference": {"samples": 4, "max_new_tokens": 24, "temperature": 0.5, "limit": 8,
                           "judge": {"base_url": judge_url, "model": "judge", "max_retries": 0},
                           **preference},
            "dpo": {"settings": {"max_steps": 16, "batch_size": 4, "max_length": 64,
                                 "learning_rate": 5e-3, "beta": 0.1, "logging_steps": 1,
                                 "save_steps": 100}},
        },
        "eval": {"include_base": False, "response_audit": False, "tasks": [
            {"task": "jcommonsenseqa", "data": str(EVAL / "jcommonsenseqa/valid-v1.1.json"), "limit": 2}]},
    }


@pytest.mark.slow
def test_pairs_come_from_the_sft_models_own_samples_and_dpo_margin_rises(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    out = tmp_path / "run"
    with OpenAITestServer(judge) as srv:
        cfg = load_experiment(config(tmp_path, tiny_model_dir, srv.base_url))
        run = run_experiment(cfg, out)
        assert run.ran == ["base/m", "data/A", "sft/m/A", "prefs/m/A", "dpo/m/A", "eval/m/A"]
        graded = len(srv.calls)

        prefs = stage_path(out, cfg, "prefs/m/A")
        pairs = [json.loads(x) for x in (prefs / "pairs.jsonl").read_text("utf-8").splitlines()]
        counts = json.loads((prefs / MARKER).read_text("utf-8"))["outputs"]["counts"]
        # 8 prompts x 4 samples, every one accounted for; with unfinished: reject, cut-off
        # and broken samples are graded too (empty ones are not)
        assert counts["prompts"] == 8 and counts["pairs"] == len(pairs) >= 2
        outcomes = {k: v for k, v in counts.items() if k.startswith("samples_")}
        assert sum(outcomes.values()) == 32
        assert graded == 32 - outcomes.get("samples_empty_answer", 0)

        sft_model = stage_path(out, cfg, "sft/m/A") / "train"
        sampler = LocalLLM(sft_model)
        asked = {r["id"]: r for r in short_records(12)}
        for p in pairs:
            meta = p["metadata"]
            # provenance: which model sampled (stage and weights), which prompt, which of
            # its samples (index and seed), the judge's verdict and score for each sample
            assert meta["sampled_by"] == "sft/m/A"
            assert meta["sampler_fingerprint"] == fingerprint(sft_model)
            assert meta["parent_id"] in asked
            assert meta["chosen_sample"] != meta["rejected_sample"]
            samples = meta["samples"]
            for k, s in samples.items():
                assert s["seed"] == int(k)  # base seed 0 + sample index
                assert json.loads(s["verdict"])["score"] == s["score"]
            chosen, rejected = samples[str(meta["chosen_sample"])], samples[str(meta["rejected_sample"])]
            assert chosen["problem"] is None and chosen["finish_reason"] == "stop"  # never a cut-off
            assert p["chosen_score"] == chosen["score"] > rejected["score"] == p["rejected_score"]
            # the chosen answer is what the SFT model itself says for that seed
            prompt = asked[meta["parent_id"]]["messages"][:1]
            again = sampler.generate([LLMRequest(
                messages=prompt, params=GenerationParams(max_tokens=24, temperature=0.5, seed=0),
                sample_index=meta["chosen_sample"])])[0]
            assert p["chosen"][0]["content"] == again.text.strip()

        # DPO trained on exactly these pairs and its reward margin rose (loosely)
        log = stage_path(out, cfg, "dpo/m/A") / "train" / "log_history.jsonl"
        margins = [e["rewards/margins"] for e in map(json.loads, log.read_text().splitlines())
                   if "rewards/margins" in e]
        assert len(margins) == 16
        assert sum(margins[-4:]) / 4 > sum(margins[:4]) / 4

        # a stage killed after its calls (no completion marker) reruns from the caches:
        # not one judge call again, not one sample regenerated, the same pairs
        before = (prefs / "pairs.jsonl").read_bytes()
        (prefs / MARKER).unlink()
        (prefs / "pairs.jsonl").unlink()
        rerun = run_experiment(cfg, out)
        assert rerun.ran == ["prefs/m/A"]
        assert len(srv.calls) == graded
        assert json.loads((prefs / MARKER).read_text("utf-8"))["outputs"]["sample_calls"] == 0
        assert (prefs / "pairs.jsonl").read_bytes() == before


def test_no_pair_fails_naming_the_counts_and_the_fix(tmp_path: Path, tiny_model_dir: Path) -> None:
    """A judge whose replies never parse forms no pair: the stage fails, it does not hand
    DPO an empty file."""
    with OpenAITestServer(lambda kind, body: "よくわかりません") as srv:
        cfg = config(tmp_path, tiny_model_dir, srv.base_url)
        cfg["recipe"]["sft"]["max_steps"] = 2
        cfg["recipe"]["preference"].update(limit=2, samples=2, max_new_tokens=4, unfinished="rank")
        with pytest.raises(DataError) as err:
            run_experiment(load_experiment(cfg), tmp_path / "run")
    text = str(err.value)
    assert "prefs/m/A: no preference pair could be formed" in text
    assert "prompts 2" in text and "too_few_scored 2" in text
    assert "recipe.preference" in text and "hint:" in text
