"""Run evaluation tasks on a local model: typed requests, batched; per-item records; results.

Python API (used by the CLI and the experiment pipeline):

    results = run_eval("runs/sft/model", [TaskSpec(task="jcommonsenseqa", data=...)], "runs/eval")
    results["jcommonsenseqa"]["acc"] == {"value": 0.41, "ci95": [0.37, 0.45], "n": 500}

A run directory holds `<task>/items.jsonl` (one record per item, written as batches
finish), `results.json`, `manifest.json` and `report.html`. Re-running with the same
model, data and settings re-uses the finished per-item records and scores only the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from oshie.config import Overrides, apply_overrides, as_pairs, load_yaml, validate
from oshie.console import progress
from oshie.errors import DataError, UsageError
from oshie.eval.generation import generate_requests
from oshie.eval.lm import LocalModel, load_local_model
from oshie.eval.loglik import score_requests
from oshie.eval.prompting import chat_formatter
from oshie.eval.report import write_eval_report
from oshie.eval.tasks import Task, TaskSpec, get_task_class
from oshie.jsonl import JsonlWriter, write_jsonl
from oshie.records import stable_hash
from oshie.runs import Manifest, fingerprint, write_json

ITEMS_FILE = "items.jsonl"


class SuiteConfig(BaseModel):
    """A YAML suite: one model, several tasks (each a TaskSpec)."""

    model_config = ConfigDict(extra="forbid")

    model: Path                 # local model directory (safetensors + tokenizer)
    out: Path | None = None     # run directory (the CLI's --out wins)
    batch_size: int = 8         # requests per forward pass
    device: str = "cpu"
    tasks: list[TaskSpec]


def load_suite(path: str | Path, overrides: Overrides = None) -> SuiteConfig:
    """Read a suite YAML; relative paths in it are relative to the file; then `--set` overrides."""
    p = Path(path)
    raw = load_yaml(p, what="suite file")
    base = p.parent
    for t in raw.get("tasks", []) or []:
        for key in ("data", "train_data"):
            if isinstance(t, dict) and t.get(key) and not Path(str(t[key])).is_absolute():
                t[key] = str(base / str(t[key]))
    if raw.get("model") and not Path(str(raw["model"])).is_absolute():
        raw["model"] = str(base / str(raw["model"]))
    pairs = as_pairs(overrides)
    raw = apply_overrides(raw, pairs)
    return validate(SuiteConfig, raw, path=p, overridden=[k for k, _ in pairs])


def _read_done(path: Path, run_key: str) -> dict[str, dict[str, Any]]:
    """Finished records of this exact configuration; others are dropped from the file."""
    if not path.is_file():
        return {}
    keep, stale = {}, False
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by an interrupted run
            stale = True
            continue
        if rec.get("run_key") == run_key:
            keep[rec["id"]] = rec
        else:
            stale = True
    if stale:
        write_jsonl(path, keep.values())
    return keep


def _check_ids(task: Task) -> None:
    seen: set[str] = set()
    for it in task.items:
        if it["id"] in seen:
            raise DataError(f"duplicate item id '{it['id']}'", path=task.spec.data,
                            hint="ids must be unique so results can be resumed per item")
        seen.add(it["id"])


def run_task(lm: LocalModel, task: Task, out_dir: Path, model_hash: str, batch_size: int) -> dict:
    """Score one task; returns {'metrics', 'n_items', 'n_resumed', 'settings'}."""
    _check_ids(task)
    settings = task.settings()
    inputs = {"data": fingerprint(task.spec.data)}
    if task.shots_n and task.spec.train_data:
        inputs["train_data"] = fingerprint(task.spec.train_data)
    if task.kind == "generate":
        settings["max_new_tokens"] = task.max_new_tokens(lm.encode)  # type: ignore[attr-defined]
    run_key = stable_hash({"settings": settings, "model": model_hash, "inputs": inputs})
    task_dir = out_dir / task.spec.key
    task_dir.mkdir(parents=True, exist_ok=True)
    items_path = task_dir / ITEMS_FILE
    done = _read_done(items_path, run_key)
    todo = [it for it in task.items if it["id"] not in done]
    prompts = [task.prompt(it) for it in todo]
    if task.kind == "loglik":
        requests = [task.request(it) for it in todo]
    else:
        requests = [task.request(it, settings["max_new_tokens"]) for it in todo]  # type: ignore[call-arg]

    with JsonlWriter(items_path, "a") as fh, progress() as bar:
        bar_task = bar.add_task(f"{task.spec.key}", total=len(todo))

        def on_batch(indices: list[int], responses: list[Any]) -> None:
            for i, resp in zip(indices, responses, strict=True):
                rec = task.record(todo[i], prompts[i], resp)
                rec["run_key"] = run_key
                done[rec["id"]] = rec
                fh.write(rec)
            fh.flush()
            bar.advance(bar_task, len(indices))

        if todo:
            run = score_requests if task.kind == "loglik" else generate_requests
            run(lm, requests, batch_size=batch_size, on_batch=on_batch)  # type: ignore[arg-type]
    records = [done[it["id"]] for it in task.items]
    return {
        "metrics": task.aggregate(records),
        "n_items": len(records),
        "n_resumed": len(task.items) - len(todo),
        "settings": settings,
        "records": records,
    }


def run_eval(
    model_dir: str | Path,
    tasks: Sequence[TaskSpec | dict[str, Any]],
    out_dir: str | Path,
    batch_size: int = 8,
    device: str = "cpu",
    lm: LocalModel | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Evaluate `model_dir` on `tasks`; write the run directory; return results.json's content."""
    specs = [t if isinstance(t, TaskSpec) else TaskSpec.model_validate(t) for t in tasks]
    if not specs:
        raise UsageError("no tasks to run", hint="pass --task/--data or a --suite file")
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise UsageError("two tasks share a name", hint="give each a distinct 'name' in the suite")
    out = Path(out_dir)
    lm = lm or load_local_model(model_dir, device=device)
    chat = chat_formatter(lm.tokenizer)
    task_objs = [get_task_class(s.task)(s, chat=chat) for s in specs]  # validates all data first
    manifest = Manifest(out, "eval", config={"tasks": [s.model_dump(mode="json") for s in specs],
                                               "batch_size": batch_size, "device": device})
    model_hash = manifest.add_input("model", model_dir)
    for s in specs:
        manifest.add_input(f"{s.key}.data", s.data)
        if s.train_data:
            manifest.add_input(f"{s.key}.train_data", s.train_data)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    details: dict[str, Any] = {}
    for task in task_objs:
        r = run_task(lm, task, out, model_hash, batch_size)
        results[task.spec.key] = r["metrics"]
        details[task.spec.key] = {k: r[k] for k in ("n_items", "n_resumed", "settings")}
        details[task.spec.key]["records"] = r["records"]
    write_json(out / "results.json", results)
    manifest.set("model", {"path": str(model_dir), "fingerprint": model_hash})
    manifest.set("tasks", {k: {kk: v for kk, v in d.items() if kk != "records"}
                           for k, d in details.items()})
    manifest.write()
    write_eval_report(out / "report.html", results, details, model=str(model_dir))
    return results


def run_suite(config: SuiteConfig, out_dir: str | Path | None = None) -> dict:
    out = out_dir or config.out
    if out is None:
        raise UsageError("no output directory", hint="pass --out or set 'out' in the suite file")
    return run_eval(config.model, config.tasks, out, batch_size=config.batch_size,
                    device=config.device)
