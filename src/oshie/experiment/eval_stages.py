"""Evaluation adapters of the experiment: benchmark tasks, judge grades and pairwise judging.

Each takes the stage, its directory and its finished upstream stages (the model to evaluate,
or the judged answers of every system for pairwise), calls the same `oshie.eval` functions
the CLI calls, and returns what it wrote (paths relative to the stage directory). The judge
is built from the stage's runtime LLM config, whose cache path is not part of the stage key,
and closed after use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oshie.experiment.cache import Stage, Upstream, model_of


def run_eval_stage(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    from oshie.eval.runner import run_eval

    tasks = []
    for t in stage.params["tasks"]:
        key = t.get("name") or t["task"]
        spec = {k: v for k, v in t.items() if v is not None}
        spec["data"] = stage.files[f"{key}.data"]
        if f"{key}.train_data" in stage.files:
            spec["train_data"] = stage.files[f"{key}.train_data"]
        tasks.append(spec)
    # run_eval keeps finished per-item records, so an interrupted eval resumes item by item
    run_eval(
        model_of(upstream),
        tasks,
        stage_dir,
        batch_size=stage.params["batch_size"],
        device=stage.params["device"],
        truncation=stage.params.get("truncation", "left"),
    )
    items = {
        (t.get("name") or t["task"]): f"{t.get('name') or t['task']}/items.jsonl"
        for t in stage.params["tasks"]
    }
    if stage.params.get("response_audit"):
        from oshie.eval.response_audit import TASK, audit_run
        from oshie.eval.tasks import get_task_class

        generated = [
            t.get("name") or t["task"]
            for t in stage.params["tasks"]
            if get_task_class(t["task"]).kind == "generate"
        ]
        if audit_run(stage_dir, generated) is not None:
            items[TASK] = f"{TASK}/items.jsonl"
    return {"results": "results.json", "report": "report.html", "items": items}


def _judge_llm(llm_config: dict[str, Any]) -> Any:
    """The judge, built from the full config (its cache path is not part of the stage key)."""
    from oshie.llm.config import LLMConfig, build_llm

    return build_llm(LLMConfig.model_validate(llm_config))


def run_judge(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    from oshie.eval.judge import run_judge as eval_run_judge

    p = stage.params
    prompt = stage.files.get("prompt") or p.get("prompt")
    extra = {"prompt": prompt} if prompt else {}
    with _judge_llm(stage.runtime["llm"]) as llm:  # closed after use
        eval_run_judge(
            stage.files["tasks"],
            stage_dir,
            llm,
            model_dir=model_of(upstream),
            limit=p["limit"],
            max_new_tokens=p["max_new_tokens"],
            system_name=p["system"],
            truncation=p.get("truncation", "left"),
            judge_max_tokens=p.get("judge_max_tokens", 512),
            **extra,
        )
    return {
        "results": "results.json",
        "answers": "answers.jsonl",
        "judgments": "judgments.jsonl",
        "report": "report.html",
    }


def run_pairwise(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    from oshie.eval.pairwise import run_compare

    names = [sid.rsplit("/", 1)[-1] for sid in stage.deps]
    with _judge_llm(stage.runtime["llm"]) as llm:  # closed after use
        run_compare(
            [upstream[sid].dir for sid in stage.deps],
            stage_dir,
            llm,
            names=names,
            judge_max_tokens=stage.params.get("judge_max_tokens", 512),
        )
    return {
        "results": "results.json",
        "pairs": "pairwise.jsonl",
        "report": "report.html",
        "systems": names,
    }
