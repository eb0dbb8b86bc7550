"""A tiny real experiment: the session's tiny model as the base, two small variants,
a few SFT steps, two cheap eval tasks. Real training, real evaluation, seconds per stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oshie.experiment.config import ExperimentConfig, resource_path
from oshie.experiment.plan import build_plan

EVAL = resource_path("evalsets")


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def sample_records(name: str, start: int, n: int) -> list[dict[str, Any]]:
    """n records of the shipped clean set, re-labelled so the variants differ."""
    rows = [
        json.loads(line)
        for line in resource_path("instructions/clean.jsonl").read_text("utf-8").splitlines()
    ]
    out = []
    for r in rows[start : start + n]:
        out.append({**r, "id": f"{name}-{r['id']}"})
    return out


def tiny_experiment(
    tmp: Path, model_dir: Path, b_start: int = 60, **changes: Any
) -> dict[str, Any]:
    """Variant A: 24 shipped records from 0; variant B: 24 from `b_start`."""
    a = write_jsonl(tmp / "a.jsonl", sample_records("a", 0, 24))
    b = write_jsonl(tmp / "b.jsonl", sample_records("b", b_start, 24))
    config: dict[str, Any] = {
        "name": "tiny-test",
        "seed": 0,
        "threads": 1,
        "audit": False,
        "base_models": [{"name": "m", "path": str(model_dir)}],
        "variants": [
            {"name": "A", "datasets": [{"path": str(a)}]},
            {"name": "B", "datasets": [{"path": str(b)}]},
        ],
        "recipe": {
            "sft": {
                "learning_rate": 3e-3,
                "max_steps": 6,
                "batch_size": 4,
                "max_length": 128,
                "save_steps": 3,
                "logging_steps": 1,
            }
        },
        "eval": {
            "batch_size": 8,
            "tasks": [
                {
                    "task": "jcommonsenseqa",
                    "data": str(EVAL / "jcommonsenseqa/valid-v1.1.json"),
                    "limit": 8,
                },
                {"task": "marc_ja", "data": str(EVAL / "marc_ja/valid-v1.1.json"), "limit": 8},
            ],
        },
    }
    for key, value in changes.items():
        config[key] = value
    return config


def stage_path(out: Path, config: ExperimentConfig, stage_id: str) -> Path:
    """The directory of a stage in a run (stage directories are named by content)."""
    return out / "stages" / build_plan(config).by_id[stage_id].dirname
