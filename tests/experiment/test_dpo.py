"""The recipe's optional DPO stage runs after SFT on preference pairs and feeds the eval."""

from __future__ import annotations

import json
from pathlib import Path

from oshie.experiment.config import load_experiment
from oshie.experiment.runner import run_experiment

from .helpers import sample_records, stage_path, tiny_experiment, write_jsonl


def test_dpo_after_sft(tmp_path: Path, tiny_model_dir: Path) -> None:
    pairs = [
        {
            "id": f"p{i}",
            "prompt": r["messages"][0]["content"],
            "chosen": r["messages"][1]["content"],
            "rejected": "AI言語モデルとして、その質問にはお答えできません。",
        }
        for i, r in enumerate(sample_records("p", 30, 8))
    ]
    prefs = write_jsonl(tmp_path / "prefs.jsonl", pairs)
    cfg = tiny_experiment(
        tmp_path,
        tiny_model_dir,
        variants=[{"name": "A", "datasets": [{"path": str(tmp_path / "a.jsonl")}]}],
    )
    cfg["eval"]["include_base"] = False
    cfg["recipe"]["dpo"] = {
        "datasets": [{"path": str(prefs)}],
        "settings": {
            "max_steps": 2,
            "batch_size": 4,
            "max_length": 128,
            "learning_rate": 1e-3,
            "save_steps": 2,
        },
    }
    out = tmp_path / "run"
    config = load_experiment(cfg)
    run = run_experiment(config, out)
    assert run.ran == ["base/m", "data/A", "sft/m/A", "dpo/m/A", "eval/m/A"]
    dpo_dir = stage_path(out, config, "dpo/m/A")
    assert (dpo_dir / "train" / "model.safetensors").is_file()
    eval_manifest = json.loads((stage_path(out, config, "eval/m/A") / "manifest.json").read_text())
    assert str(dpo_dir) in eval_manifest["model"]["path"]  # the eval scored the DPO model
    assert run.results["rows"][0]["variant"] == "A"
