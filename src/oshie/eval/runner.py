"""Run evaluation tasks on a local model: typed requests, batched; per-item records; results.

Python API (used by the CLI and the experiment pipeline):

    results = run_eval("runs/sft/model", [TaskSpec(task="jcommonsenseqa", data=...)], "runs/eval")
    results["jcommonsenseqa"]["acc"] == {"value": 0.41, "ci95": [0.37, 0.45], "n": 500}

A run directory holds `<task>/items.jsonl` (one record per item, appended as batches
finish, then rewritten in the data file's order), `results.json`, `manifest.json` and
`report.html`. Re-running with the same model, data and settings re-uses the finished
per-item records and scores only the rest; `--limit` is not a setting: a `--limit 50`
run is the first 50 items of the full run, which resumes them.

Every task's results carry `truncated` (prompts cut to fit the window: how many, how many
tokens, by which rule) and `answer_cut` (those that lost the question or the gold answer),
so no cut is silent; `truncation="error"` refuses instead, naming the item.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from oshie.config import Overrides, apply_overrides, as_pairs, load_yaml, validate
from oshie.console import progress
from oshie.errors import DataError, UsageError
from oshie.eval.encoding import (
    ENCODINGS,
    TRUNCATIONS,
    check_choice,
    fit_generation,
    refusal,
    truncation_entries,
    truncation_summary,
)
from oshie.eval.generation import generate_requests
from oshie.eval.lm import LocalModel, load_local_model
from oshie.eval.loglik import encode_requests, score_encoded
from oshie.eval.prompting import chat_formatter
from oshie.eval.report import write_eval_report
from oshie.eval.tasks import Task, TaskSpec, get_task_class
from oshie.eval.tasks.base import Item
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
    device: str = "auto"        # auto: the GPU when there is one, else the CPU
    encoding: str = "joint"     # joint (lm-eval's tokenisation) | separate
    truncation: str = "left"    # left | input: cut and count | error: refuse over-long prompts
    max_length: int | None = None  # window in tokens (default: the model's)
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
    for it in task.all_items:
        if it["id"] in seen:
            raise DataError(f"duplicate item id '{it['id']}'", path=task.spec.data,
                            hint="ids must be unique so results can be resumed per item")
        seen.add(it["id"])


@dataclass
class Scoring:
    """Run-wide settings that change an item's result (all part of the resume key)."""

    encoding: str = "joint"       # joint (lm-eval) | separate (oshie's earlier convention)
    truncation: str = "left"      # left | input: cut and count (see encoding) | error: refuse
    max_length: int | None = None  # window in tokens (None: the model's own)

    def check(self) -> Scoring:
        check_choice("encoding", self.encoding, ENCODINGS)
        check_choice("truncation", self.truncation, TRUNCATIONS)
        if self.max_length is not None and self.max_length < 2:
            raise UsageError(f"max_length {self.max_length} is too small", field="max_length")
        return self


def _encode(lm: LocalModel, task: Task, todo: list[Item], prompts: list[str],
            settings: dict[str, Any], scoring: Scoring) -> tuple[list[Any], list[Any]]:
    """Typed requests and their encodings; truncation refused here when asked to."""
    if task.kind == "loglik":
        requests: list[Any] = [task.request(it) for it in todo]
        encoded: list[Any] = encode_requests(lm, requests, scoring.encoding)
        if scoring.truncation == "error":
            for it, e in zip(todo, encoded, strict=True):
                if e.dropped:
                    longest = max(len(s) + c for s, c in zip(e.seqs, e.cut, strict=True))
                    raise refusal(f"{task.spec.key} item '{it['id']}'", longest, 0,
                                  lm.max_length, task.spec.data)
        return requests, encoded
    requests = [task.request(it, settings["max_new_tokens"]) for it in todo]  # type: ignore[call-arg]
    encoded = [fit_generation(lm, r.prompt, r.max_new_tokens, scoring.truncation,
                              task.query(it), f"{task.spec.key} item '{it['id']}'", task.spec.data)
               for it, r in zip(todo, requests, strict=True)]
    return requests, encoded


def _answer_lost(task: Task, item: Item, prompt: str, enc: Any) -> bool:
    if getattr(enc, "cut_chars", None) is not None:  # `input` rule: cut inside the input
        visible = enc.visible(prompt)
        return not any(e in visible for e in task.evidence(item))
    return task.answer_cut(item, prompt, enc.kept_from)


def run_task(lm: LocalModel, task: Task, out_dir: Path, model_hash: str, batch_size: int,
             scoring: Scoring | None = None) -> dict:
    """Score one task; returns {'metrics', 'n_items', 'n_resumed', 'settings', 'records'}."""
    scoring = scoring or Scoring()
    _check_ids(task)
    settings = task.settings()
    settings.update(encoding=scoring.encoding, truncation=scoring.truncation,
                    max_length=lm.max_length)
    if task.kind == "loglik":
        settings.pop("max_new_tokens", None)
    inputs = {"data": fingerprint(task.spec.data)}
    if task.shots_n and task.spec.train_data:
        inputs["train_data"] = fingerprint(task.spec.train_data)
    if task.kind == "generate":
        settings["max_new_tokens"] = task.max_new_tokens(lm.encode)  # type: ignore[attr-defined]
    # --limit is not in the key: a limited run is a prefix of the full one and resumes into it
    run_key = stable_hash({"settings": settings, "model": model_hash, "inputs": inputs})
    task_dir = out_dir / task.spec.key
    task_dir.mkdir(parents=True, exist_ok=True)
    items_path = task_dir / ITEMS_FILE
    done = _read_done(items_path, run_key)
    todo = [it for it in task.items if it["id"] not in done]
    prompts = [task.prompt(it) for it in todo]
    requests, encoded = _encode(lm, task, todo, prompts, settings, scoring)

    with JsonlWriter(items_path, "a") as fh, progress() as bar:
        bar_task = bar.add_task(f"{task.spec.key}", total=len(todo))

        def on_batch(indices: list[int], responses: list[Any]) -> None:
            for i, resp in zip(indices, responses, strict=True):
                rec = task.record(todo[i], prompts[i], resp)
                rec["truncated_tokens"] = encoded[i].dropped
                # field names differ from the metric names: these diagnostics are not
                # per-item scores for paired comparisons (`oshie eval diff` skips them)
                rec["answer_lost"] = _answer_lost(task, todo[i], prompts[i], encoded[i])
                rec["run_key"] = run_key
                done[rec["id"]] = rec
                fh.write(rec)
            fh.flush()
            bar.advance(bar_task, len(indices))

        if todo and task.kind == "loglik":
            score_encoded(lm, requests, encoded, batch_size=batch_size, on_batch=on_batch)
        elif todo:
            generate_requests(lm, requests, batch_size=batch_size, on_batch=on_batch,
                              encoded=encoded)
    # batches finish longest first; the file is rewritten in the data file's order
    write_jsonl(items_path, [done[it["id"]] for it in task.all_items if it["id"] in done])
    records = [done[it["id"]] for it in task.items]
    metrics = task.aggregate(records)
    metrics.update(truncation_entries(
        [r.get("truncated_tokens", 0) for r in records],
        [bool(r.get("answer_lost")) for r in records],
        lm.max_length, scoring.truncation, task.spec.seed))
    return {
        "metrics": metrics,
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
    device: str = "auto",
    lm: LocalModel | None = None,
    encoding: str = "joint",
    truncation: str = "left",
    max_length: int | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Evaluate `model_dir` on `tasks`; write the run directory; return results.json's content.

    `encoding`, `truncation` and `max_length` are described in `oshie.eval.encoding`."""
    scoring = Scoring(encoding, truncation, max_length).check()
    specs = [t if isinstance(t, TaskSpec) else TaskSpec.model_validate(t) for t in tasks]
    if not specs:
        raise UsageError("no tasks to run", hint="pass --task/--data or a --suite file")
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise UsageError("two tasks share a name", hint="give each a distinct 'name' in the suite")
    out = Path(out_dir)
    lm = lm or load_local_model(model_dir, device=device)
    if max_length is not None:
        lm.window = max_length
    chat = chat_formatter(lm.tokenizer) if any(
        (s.template or get_task_class(s.task).default_template) == "chat" for s in specs) else None
    task_objs = [get_task_class(s.task)(s, chat=chat) for s in specs]  # validates all data first
    manifest = Manifest(out, "eval", config={"tasks": [s.model_dump(mode="json") for s in specs],
                                               "batch_size": batch_size, "device": device,
                                               **asdict(scoring)})
    model_hash = manifest.add_input("model", model_dir)
    for s in specs:
        manifest.add_input(f"{s.key}.data", s.data)
        if s.train_data:
            manifest.add_input(f"{s.key}.train_data", s.train_data)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    details: dict[str, Any] = {}
    for task in task_objs:
        r = run_task(lm, task, out, model_hash, batch_size, scoring)
        results[task.spec.key] = r["metrics"]
        details[task.spec.key] = {k: r[k] for k in ("n_items", "n_resumed", "settings")}
        details[task.spec.key]["records"] = r["records"]
    write_json(out / "results.json", results)
    manifest.set("model", {"path": str(model_dir), "fingerprint": model_hash})
    manifest.set("tasks", {k: {kk: v for kk, v in d.items() if kk != "records"}
                           for k, d in details.items()})
    manifest.set("truncation", {k: truncation_summary(v) for k, v in results.items()})
    manifest.write()
    write_eval_report(out / "report.html", results, details, model=str(model_dir))
    return results


def run_suite(config: SuiteConfig, out_dir: str | Path | None = None) -> dict:
    out = out_dir or config.out
    if out is None:
        raise UsageError("no output directory", hint="pass --out or set 'out' in the suite file")
    return run_eval(config.model, config.tasks, out, batch_size=config.batch_size,
                    device=config.device, encoding=config.encoding,
                    truncation=config.truncation, max_length=config.max_length)
