"""The judge-free instruction-following tasks on the shipped held-out set."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from oshie.errors import DataError
from oshie.eval.runner import run_eval
from oshie.eval.tasks import TaskSpec, get_task_class
from oshie.experiment.config import resource_path

HELD_OUT = resource_path("evalsets/instructions/test.jsonl")


def test_shipped_set_loads_and_is_not_in_the_training_sets() -> None:
    from oshie.data.check import check_records
    from oshie.train.data import read_records

    task = get_task_class("instruction_following")(TaskSpec(task="instruction_following", data=HELD_OUT))
    assert len(task.items) == 30 and len({it["id"] for it in task.items}) == 30
    records = [
        r
        for name in ("clean", "flawed")
        for r in read_records(resource_path(f"instructions/{name}.jsonl"))
    ]
    result = check_records(records, eval_sets=[str(HELD_OUT)])
    assert not [f for f in result.findings if f.check == "contamination"]


def test_scores_a_perfect_and_a_partial_answer() -> None:
    task = get_task_class("instruction_following")(TaskSpec(task="instruction_following", data=HELD_OUT))
    item = task.items[11]  # りんご三個で三百円 -> 五個では五百円
    ref = item["references"][0]
    perfect = task.record(item, "p", ref)
    assert perfect["rougeL_char"] == 1.0 and perfect["f1_char"] == 1.0
    partial = task.record(item, "p", "五個では五百円になります。")
    assert 0.0 < partial["rougeL_char"] < 1.0 and 0.0 < partial["f1_char"] < 1.0
    wrong = task.record(item, "p", "Aeeee eeee")
    assert wrong["rougeL_char"] == 0.0


def test_missing_reference_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"instruction": "a"}, ensure_ascii=False) + "\n", "utf-8")
    with pytest.raises(DataError) as exc:
        get_task_class("instruction_following")(TaskSpec(task="instruction_following", data=bad))
    assert "line 1" in str(exc.value) or ":1" in str(exc.value)


def test_both_tasks_run_on_a_tiny_model(tmp_path: Path, tiny_model_dir: Path) -> None:
    tasks = [
        {"task": "instruction_following", "data": str(HELD_OUT), "limit": 3, "max_new_tokens": 8},
        {"task": "instruction_loss", "data": str(HELD_OUT), "limit": 3},
    ]
    results = run_eval(tiny_model_dir, tasks, tmp_path / "run")
    assert results["instruction_following"]["rougeL_char"]["n"] == 3
    loss = results["instruction_loss"]["loss"]
    assert math.isfinite(loss["value"]) and loss["value"] > 0
    items = [
        json.loads(line)
        for line in (tmp_path / "run" / "instruction_loss" / "items.jsonl").read_text().splitlines()
    ]
    # the loss is per token of the reference: a mean NLL, comparable across answer lengths
    assert all(it["n_tokens"] > 0 and it["loss"] > 0 for it in items)
    gen = (tmp_path / "run" / "instruction_following" / "items.jsonl").read_text("utf-8")
    first = json.loads(gen.splitlines()[0])
    # the prompt is the instruction as the whole user turn of the chat template
    assert first["instruction"] in first["prompt"] and "### 指示" not in first["prompt"]
