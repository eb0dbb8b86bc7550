"""Experiments: base models x data variants x a tuning recipe -> evaluation -> comparison report.

from oshie.experiment import load_experiment, run_experiment
run = run_experiment(load_experiment("examples/experiment.yaml"), "runs/exp")
"""

from oshie.experiment.config import ExperimentConfig, load_experiment
from oshie.experiment.runner import ExperimentRun, experiment_status, run_experiment

__all__ = [
    "ExperimentConfig",
    "ExperimentRun",
    "experiment_status",
    "load_experiment",
    "run_experiment",
]
