"""examples/seeds/nec.yaml end to end with small --set sizes: CPT with position
interpolation, SFT on human + LLM-extended multi-turn data (a local model plays the user),
preferences from the SFT model's own samples (local backend), DPO, JSQuAD/JCommonsenseQA
few-shot and the judge; then `oshie experiment status` shows every stage done.

The user-playing LLM and the judges are a real HTTP server on 127.0.0.1 with scripted
replies: a random tiny model writes neither follow-up questions the synthesis filters keep
nor verdicts in the judge's format (no multi-turn record, no preference pair would form)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests.support.cli import run_cli
from tests.support.openai_server import OpenAITestServer, last_user_text
from tests.synth.scripted import respond as scripted

from oshie.experiment.config import load_experiment
from oshie.experiment.plan import build_plan

from .helpers import sample_records, stage_path, write_jsonl

NEC = Path(__file__).resolve().parents[2] / "examples" / "seeds" / "nec.yaml"


def judge(kind: str, body: dict[str, Any]) -> str:
    """Follow-up questions and answers (the synthesis tests' script), preference grades
    (1-10 JSON), 1-5 grades and pairwise verdicts, by fixed rules."""
    prompt = last_user_text(body)
    if "採点の観点" in prompt:  # the 1-5 grade of the eval judge
        return f"評価: {1 + len(prompt) % 5}"
    if "<<<回答Aここから>>>" in prompt:
        return "判定: A"
    if "<<<回答ここから>>>" in prompt:  # the preference judge (1-10)
        answer = prompt.split("<<<回答ここから>>>\n", 1)[1].split("\n<<<回答ここまで>>>", 1)[0]
        return json.dumps({"score": 1 + len(set(answer)) % 10, "reason": "文字の種類"})
    return scripted(kind, body)  # follow-up questions and their answers


@pytest.mark.slow
def test_nec_seed_runs_end_to_end_and_status_shows_every_stage_done(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    seeds = write_jsonl(tmp_path / "seeds.jsonl", sample_records("s", 0, 3))
    out = tmp_path / "run"
    with OpenAITestServer(judge) as srv:
        llm = json.dumps({"base_url": srv.base_url, "model": "judge", "max_retries": 0})
        sets = [
            "base_models.0.build.vocab_size=400",
            "base_models.0.build.pretrain.max_steps=2",
            "base_models.0.build.pretrain.batch_size=2",
            f"variants.0.synthesis.seeds={seeds}",
            f"variants.0.synthesis.llm={llm}",
            "variants.0.synthesis.steps.0.settings.turns=1",
            "variants.0.synthesis.steps.0.settings.max_tokens=8",
            "variants.0.synthesis.steps.0.settings.answer_max_tokens=8",
            "recipe.sft.max_steps=3", "recipe.sft.batch_size=4", "recipe.sft.max_length=128",
            "recipe.preference.limit=4", "recipe.preference.samples=4",
            "recipe.preference.max_new_tokens=8",
            # a model tuned for 3 steps never finishes an answer: let cut-off ones rank
            "recipe.preference.unfinished=rank",
            f"recipe.preference.judge={llm}",
            "recipe.dpo.settings.max_steps=2", "recipe.dpo.settings.batch_size=2",
            "recipe.dpo.settings.max_length=64",
            "eval.tasks.0.limit=2", "eval.tasks.1.limit=2",
            f"eval.judge.llm={llm}", "eval.judge.limit=2", "eval.judge.max_new_tokens=8",
        ]
        args = [str(NEC), "--out", str(out), *[x for s in sets for x in ("--set", s)]]
        code, stdout, error = run_cli(["experiment", "run", *args])
        assert code == 0, error or stdout
        assert any("<<<回答ここから>>>" in last_user_text(c.body) for c in srv.calls)

    code, stdout, error = run_cli(["experiment", "status", *args])
    assert code == 0, error
    config = load_experiment(NEC, sets)
    plan = build_plan(config)
    kinds = {s.kind for s in plan.stages}
    assert {"pretrain", "synth", "sft", "prefs", "dpo", "eval", "judge", "pairwise"} <= kinds
    n = len(plan.stages)
    assert f"{n}/{n} stages done" in re.sub(r"\s+", " ", stdout)

    # the CPT'd model took position interpolation: 128 positions -> 256
    cpt = json.loads((stage_path(out, config, "pretrain/tiny") / "train" / "config.json").read_text())
    assert cpt["rope_parameters"]["rope_type"] == "linear" and cpt["max_position_embeddings"] == 256
