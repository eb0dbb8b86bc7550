"""`oshie quickstart`: the shipped experiment, end to end, offline on a CPU.

Trains a tokenizer and a tiny Llama on the shipped corpus (with a short pre-training pass),
tunes it on the shipped clean and flawed instruction sets (and the flawed set filtered by the
quality audit), evaluates the untuned base and each tuned model on the shipped mini tasks,
and writes the comparison report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oshie.experiment.config import ExperimentConfig, load_experiment, resource_path
from oshie.experiment.runner import ExperimentRun, run_experiment

QUICKSTART_YAML = "experiments/quickstart.yaml"


def quickstart_config(overrides: dict[str, Any] | None = None) -> ExperimentConfig:
    path = resource_path(QUICKSTART_YAML)
    return load_experiment(path, overrides)


def run_quickstart(out_dir: str | Path, overrides: dict[str, Any] | None = None) -> ExperimentRun:
    return run_experiment(quickstart_config(overrides), out_dir)
