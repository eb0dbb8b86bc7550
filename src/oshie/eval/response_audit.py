"""The response audit: oshie's data checks run over a model's own generated answers.

A judge-free signal of what the training data taught: a model tuned on answers with English
remnants, boilerplate or repetition loops writes them back. Every generated answer of an eval
run (summaries, instruction following, extractive QA) becomes a one-turn record (the prompt,
then the answer) and goes through the same checks `oshie data check` runs on training data.
Only findings about the answer count (an English word in the prompt is not the model's).

Written into the run directory beside the tasks it audits:

    response_audit/items.jsonl   one line per answer: {"id": "<task>/<item id>", "task",
                                 "output", "<check code>": 0|1 for every check, "any_defect"}
    results.json                 gains "response_audit": {"<code>_rate": entry, ...,
                                 "any_defect_rate": entry} (rates with bootstrap CIs)

so `oshie eval diff` and experiment reports compare two models' defect rates item by item.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oshie.eval.metrics.bootstrap import mean_entry
from oshie.jsonl import write_jsonl
from oshie.records import Conversation, Message
from oshie.runs import write_json

TASK = "response_audit"
ANY = "any_defect"
ANSWER_FIELD = "messages[1].content"


def _record(rid: str, prompt: str, output: str) -> Conversation:
    return Conversation(
        id=rid,
        messages=[Message(role="user", content=prompt), Message(role="assistant", content=output)],
    )


def audit_outputs(
    outputs: Sequence[tuple[str, str, str, str]], seed: int = 0
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """(task, item id, prompt, answer) tuples -> (per-answer flags, rate metrics).

    Every check code that exists gets a 0/1 field on every item, so two runs can be compared
    on a defect one of them never shows; the metrics list the codes that fired, plus the
    share of answers with any defect."""
    from oshie.data.check import DatasetCheck, check_records, iter_checks

    records = [_record(f"{t}/{i}", p, o) for t, i, p, o in outputs]
    result = check_records(records)
    # dataset-level checks (duplicates, contamination) judge whole records, prompts included:
    # many items share a passage, so they say nothing about the answers
    codes = [c.code for c in iter_checks() if not issubclass(c, DatasetCheck)]
    flags: list[dict[str, int]] = [dict.fromkeys(codes, 0) for _ in records]
    for f in result.findings:
        if f.check not in codes or (f.span is not None and f.span.field != ANSWER_FIELD):
            continue  # about the prompt (or the whole record), not the model's answer
        flags[f.index][f.check] = 1
    items = []
    for (task, item_id, _, output), fl in zip(outputs, flags, strict=True):
        items.append(
            {"id": f"{task}/{item_id}", "task": task, "output": output, **fl, ANY: int(any(fl.values()))}
        )
    fired = [c for c in codes if any(it[c] for it in items)]
    metrics = {
        f"{c}_rate": mean_entry([it[c] for it in items], seed=seed, check=c) for c in [*fired, ANY]
    }
    return items, metrics


def generated_answers(run_dir: Path, tasks: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """(task, id, prompt, output) of every generated answer of the named tasks in a run."""
    rows = []
    for task in tasks:
        path = run_dir / task / "items.jsonl"
        if not path.is_file():
            continue
        for line in path.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            if isinstance(r.get("output"), str):
                query = r.get("instruction") or r.get("prompt") or ""
                rows.append((task, str(r["id"]), str(query), r["output"]))
    return rows


def audit_run(run_dir: str | Path, tasks: Sequence[str], seed: int = 0) -> dict[str, Any] | None:
    """Audit the generated answers of an eval run in place (see the module docstring);
    returns the rate metrics, or None when the run generated nothing."""
    run = Path(run_dir)
    answers = generated_answers(run, tasks)
    if not answers:
        return None
    items, metrics = audit_outputs(answers, seed=seed)
    (run / TASK).mkdir(exist_ok=True)
    write_jsonl(run / TASK / "items.jsonl", items)
    results_path = run / "results.json"
    results = json.loads(results_path.read_text("utf-8")) if results_path.is_file() else {}
    results[TASK] = metrics
    write_json(results_path, results)
    return metrics
