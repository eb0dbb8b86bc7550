"""An experiment SIGKILLed mid-training resumes from the checkpoint and ends with the same
results table as an uninterrupted run (same seed, CPU)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from oshie.experiment.cache import MARKER
from oshie.experiment.config import load_experiment
from oshie.experiment.runner import run_experiment

from .helpers import stage_path, tiny_experiment

KILL_TIMEOUT_S = 600


def _config(tmp: Path, model_dir: Path) -> dict:
    cfg = tiny_experiment(
        tmp, model_dir, variants=[{"name": "A", "datasets": [{"path": str(tmp / "a.jsonl")}]}]
    )
    cfg["recipe"]["sft"].update(max_steps=24, save_steps=4, save_total_limit=None)
    return cfg


def _kill_once_checkpointed(cmd: list[str], sft_glob: str, out: Path) -> None:
    env = {**os.environ, "OSHIE_QUIET": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + KILL_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            ckpts = list((out / "stages").glob(f"{sft_glob}/train/checkpoint-*/trainer_state.json"))
            if ckpts:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return
            if proc.poll() is not None:
                raise AssertionError(
                    f"run ended before a checkpoint: {proc.stderr.read().decode()[-2000:]}"
                )
            time.sleep(0.05)
        raise AssertionError("no checkpoint appeared in time")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_killed_experiment_resumes_to_the_same_table(tmp_path: Path, tiny_model_dir: Path) -> None:
    cfg = _config(tmp_path, tiny_model_dir)
    yaml_path = tmp_path / "exp.yaml"
    yaml_path.write_text(yaml.safe_dump(cfg, allow_unicode=True), "utf-8")

    killed = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "oshie.cli.app",
        "experiment",
        "run",
        str(yaml_path),
        "--out",
        str(killed),
    ]
    sft_dir = stage_path(killed, load_experiment(yaml_path), "sft/m/A")
    _kill_once_checkpointed(cmd, sft_dir.name, killed)
    assert not (sft_dir / MARKER).exists(), "the kill came too late: SFT had finished"
    assert not (killed / "results.csv").exists()

    config = load_experiment(yaml_path)
    resumed = run_experiment(config, killed)
    assert "sft/m/A" in resumed.resumed
    assert "eval/m/base" in resumed.skipped  # finished before the kill: not recomputed
    outputs = json.loads((sft_dir / MARKER).read_text("utf-8"))["outputs"]
    assert outputs["resumed_from"] and "checkpoint-" in outputs["resumed_from"]
    assert outputs["global_step"] == 24

    straight = run_experiment(config, tmp_path / "straight")
    assert straight.resumed == [] and "sft/m/A" in straight.ran
    a = (killed / "results.csv").read_text("utf-8")
    b = (tmp_path / "straight" / "results.csv").read_text("utf-8")
    assert a == b
    assert "0." in a.splitlines()[-1]  # the rows hold numbers, not blanks
