"""`oshie quickstart`: the shipped experiment, end to end, offline on a CPU.

Trains a tokenizer and a tiny Llama on the shipped corpus (with a short pre-training pass),
tunes it on the shipped clean and flawed instruction sets (and the flawed set filtered by the
quality audit), evaluates the untuned base and each tuned model on the shipped mini tasks,
and writes the comparison report.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oshie.experiment.config import ExperimentConfig, load_experiment, resource_path
from oshie.experiment.runner import STAGES_DIR, ExperimentRun, run_experiment, stage_store

QUICKSTART_YAML = "experiments/quickstart.yaml"


def quickstart_config(overrides: dict[str, Any] | None = None) -> ExperimentConfig:
    path = resource_path(QUICKSTART_YAML)
    return load_experiment(path, overrides)


def run_quickstart(
    out_dir: str | Path,
    overrides: dict[str, Any] | None = None,
    cache_dir: str | Path | None = None,
) -> ExperimentRun:
    return run_experiment(quickstart_config(overrides), out_dir, cache_dir)


def next_steps(
    run: ExperimentRun, overrides: Sequence[str] = (), cache_dir: str | Path | None = None
) -> list[str]:
    """The commands printed after the quickstart, exactly as they work when pasted: look at
    the audit of the flawed set, copy the plan, and run it into a new directory that reuses
    every unchanged stage from this run's stage store."""
    out = Path(run.out_dir)
    store = stage_store(cache_dir) or out / STAGES_DIR
    sets = "".join(f" --set {shlex.quote(o)}" for o in overrides)
    flawed = shlex.quote(str(resource_path("instructions/flawed.jsonl")))
    mine = out.parent / "mine"
    return [
        f"open {shlex.quote(str(run.report))} in a browser",
        f"oshie data check {flawed} --out {shlex.quote(str(out / 'flawed-check'))}"
        "   # what the audit found",
        f"cp {shlex.quote(str(resource_path(QUICKSTART_YAML)))} my.yaml   # edit it, then:",
        f"oshie experiment run my.yaml --out {shlex.quote(str(mine))}"
        f" --cache {shlex.quote(str(store))}{sets}"
        "   # stages unchanged from the quickstart are reused",
    ]
