"""A variant made by a synthesis chain (seeds -> self-instruct -> respond -> screen) against a
real HTTP server on 127.0.0.1: SIGKILL the experiment mid-synthesis, run it again, and the
records equal an uninterrupted run's while no answered call is asked twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.kill_resume import HoldingServer
from tests.support.openai_server import OpenAITestServer
from tests.synth.conftest import SEEDS
from tests.synth.scripted import respond as scripted

from oshie.experiment.config import load_experiment
from oshie.experiment.runner import run_experiment

from .helpers import stage_path, tiny_experiment, write_jsonl

STEPS = ["0-self_instruct", "1-respond", "2-screen"]


def _config(tmp: Path, model_dir: Path, base_url: str) -> dict[str, Any]:
    tmp.mkdir(parents=True, exist_ok=True)
    seeds = write_jsonl(
        tmp / "seeds.jsonl",
        [{"id": f"s{i}", "messages": [{"role": "user", "content": c}]} for i, c in enumerate(SEEDS)],
    )
    cfg = tiny_experiment(tmp, model_dir)
    cfg["variants"] = [
        {
            "name": "S",
            "synthesis": {
                "seeds": str(seeds),
                "llm": {"base_url": base_url, "model": "test-model", "concurrency": 2},
                "steps": [
                    {"step": "self_instruct", "settings": {"target": 12, "requests_per_round": 4}},
                    {"step": "respond"},
                    {"step": "screen"},
                ],
            },
        }
    ]
    cfg["recipe"]["sft"].update(max_steps=2, save_steps=2)
    cfg["eval"]["tasks"] = [{**cfg["eval"]["tasks"][1], "limit": 4}]
    cfg["eval"]["include_base"] = False
    return cfg


@pytest.mark.slow
def test_killed_synthesis_resumes_to_the_same_records_without_repeated_calls(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    env = {**os.environ, "OSHIE_QUIET": "1"}
    with HoldingServer(scripted, answer_first=5, hang_s=30) as srv:
        cfg = _config(tmp_path / "killed", tiny_model_dir, srv.base_url)
        path = tmp_path / "killed" / "exp.yaml"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True), "utf-8")
        out = tmp_path / "killed" / "run"
        config = load_experiment(path)
        first_step = stage_path(out, config, f"synth/S/{STEPS[0]}")
        cache = first_step / "records.cache.sqlite"
        argv = [sys.executable, "-m", "oshie.cli.app", "experiment", "run", str(path),
                "--out", str(out)]
        answered = srv.kill_when_cached(argv, env, cache, limit_s=120)
        assert not (first_step / "DONE.json").exists()  # killed mid-synthesis
        srv.release()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        bodies = [json.dumps(c.body, sort_keys=True, ensure_ascii=False) for c in srv.answered()]
    assert len(bodies) > answered  # the rerun had work left
    assert len(bodies) == len(set(bodies)), "an answered call was asked again"

    with OpenAITestServer(scripted) as clean:
        ref_cfg = _config(tmp_path / "clean", tiny_model_dir, clean.base_url)
        ref_config = load_experiment(ref_cfg)
        run_experiment(ref_config, tmp_path / "clean" / "run")
        assert len(clean.answered()) == len(bodies)  # the same calls, each once
    for step in STEPS:
        got = stage_path(out, config, f"synth/S/{step}") / "records.jsonl"
        ref = stage_path(tmp_path / "clean" / "run", ref_config, f"synth/S/{step}") / "records.jsonl"
        assert got.read_bytes() == ref.read_bytes() and got.read_bytes(), step
    data = json.loads((stage_path(out, config, "data/S") / "stats.json").read_text("utf-8"))
    kept = sum(1 for line in got.read_text("utf-8").splitlines() if line.strip())
    assert data["records"] == kept > 0  # the variant trains on what the chain kept
