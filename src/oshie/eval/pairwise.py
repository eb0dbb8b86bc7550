"""Pairwise comparison of systems' answers to the same tasks, judged in both orders.

For each pair of systems and each task the judge sees (X first, Y second) and
(Y first, X second). Agreeing verdicts decide the item; a verdict that changes with the
order is a tie and counted as inconsistent. Unparsable or failed verdicts (after
retries) leave the item undecided and are counted. Win / tie / loss rates carry
bootstrap CIs; with more than two systems, Bradley–Terry strengths with a first-position
term are fitted on the individual (ordered) verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from oshie.errors import DataError, UsageError
from oshie.eval.judging import judge_with_retries
from oshie.eval.metrics.bootstrap import bootstrap_ci, mean_entry, metric_entry
from oshie.eval.metrics.bradley_terry import Game, elo_scale, fit_bradley_terry
from oshie.jsonl import JsonlWriter
from oshie.llm.base import LLM
from oshie.prompts import PromptTemplate, check_fields, load_prompt
from oshie.runs import Manifest, write_json
from oshie.verdicts import parse_winner

DEFAULT_PAIRWISE_PROMPT = "judge_pairwise_v1"
BT_RESAMPLES = 200


def load_system(path: str | Path) -> tuple[str, list[dict[str, Any]]]:
    """(name, answer rows) from a judge run directory (answers.jsonl) or an answers JSONL."""
    from oshie.eval.tasks.base import read_jsonl

    p = Path(path)
    f = p / "answers.jsonl" if p.is_dir() else p
    if not f.is_file():
        raise DataError("no answers found", path=f,
                        hint="pass a run directory of `oshie eval judge` or an answers JSONL")
    rows = []
    for line, obj in read_jsonl(f):
        if "input" not in obj or "answer" not in obj:
            raise DataError("each row needs 'input' and 'answer'", path=f, line=line)
        rows.append({"id": str(obj.get("id", line)), "input": obj["input"],
                     "reference": obj.get("reference"), "answer": obj["answer"]})
    return (p.name if p.is_dir() else p.stem), rows


def pair_messages(template: PromptTemplate, task: dict[str, Any], a: str,
                  b: str) -> list[dict[str, str]]:
    ref = task.get("reference")
    ref_block = f"\n# 模範解答（参考）\n{ref}\n" if ref else ""
    text = template.render(input=task["input"], reference_block=ref_block, answer_a=a, answer_b=b)
    return [{"role": "user", "content": text}]


def combine(first: str | None, second: str | None) -> tuple[str | None, bool]:
    """Outcome for X from verdicts on (X, Y) and on (Y, X): ('win'|'tie'|'loss'|None, inconsistent)."""
    if first is None or second is None:
        return None, False
    as_x = {"A": "win", "B": "loss", "tie": "tie"}[first]
    as_x2 = {"B": "win", "A": "loss", "tie": "tie"}[second]  # in the swapped order X is B
    if as_x == as_x2:
        return as_x, False
    return "tie", True


def check_same_tasks(systems: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The system names, once sure there are at least two and all answered the same task ids in
    the same order (for judge comparisons and for blind human rounds alike)."""
    names = list(systems)
    if len(names) < 2:
        raise UsageError("a comparison needs at least two systems")
    ids = [r["id"] for r in systems[names[0]]]
    for n in names[1:]:
        if [r["id"] for r in systems[n]] != ids:
            raise DataError(f"system '{n}' answered different tasks than '{names[0]}'",
                            hint="compare runs made on the same tasks file")
    return names


def compare_systems(
    llm: LLM,
    systems: dict[str, list[dict[str, Any]]],
    prompt: str = DEFAULT_PAIRWISE_PROMPT,
    max_attempts: int = 3,
    seed: int = 0,
    judge_max_tokens: int = 512,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    names = check_same_tasks(systems)
    base = systems[names[0]]
    ids = [r["id"] for r in base]
    template = check_fields(load_prompt(prompt), {"answer_a", "answer_b"})
    prompt_name = template.name
    jobs, msgs = [], []
    for x, y in combinations(names, 2):
        for k, task in enumerate(base):
            ax, ay = systems[x][k]["answer"], systems[y][k]["answer"]
            jobs.append((x, y, k))
            msgs.append(pair_messages(template, task, ax, ay))
            msgs.append(pair_messages(template, task, ay, ax))
    verdicts = judge_with_retries(llm, msgs, parse_winner, max_attempts=max_attempts,
                                  max_tokens=judge_max_tokens)
    records = []
    for j, (x, y, k) in enumerate(jobs):
        v1, v2 = verdicts[2 * j], verdicts[2 * j + 1]
        outcome, inconsistent = combine(v1.value, v2.value)
        records.append({
            "id": ids[k], "system_x": x, "system_y": y, "outcome_for_x": outcome,
            "inconsistent": inconsistent, "verdict_xy": v1.value, "verdict_yx": v2.value,
            "status_xy": v1.status, "status_yx": v2.status,
            "judge_raw_xy": [a.raw for a in v1.attempts], "judge_raw_yx": [a.raw for a in v2.attempts],
            "calls": len(v1.attempts) + len(v2.attempts), "prompt": prompt_name,
        })
    return pairwise_metrics(records, names, seed), records


def pairwise_metrics(records: Sequence[dict[str, Any]], names: Sequence[str],
                     seed: int = 0) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for x, y in combinations(names, 2):
        rows = [r for r in records if r["system_x"] == x and r["system_y"] == y]
        decided = [r["outcome_for_x"] for r in rows if r["outcome_for_x"] is not None]
        failed = [r for r in rows if r["outcome_for_x"] is None]
        unparsable = sum((r["status_xy"] == "unparsable") + (r["status_yx"] == "unparsable")
                         for r in rows)
        errors = sum((r["status_xy"] == "judge_error") + (r["status_yx"] == "judge_error")
                     for r in rows)
        results[f"{x}_vs_{y}"] = {
            "win_rate": mean_entry([o == "win" for o in decided], seed=seed, system=x),
            "tie_rate": mean_entry([o == "tie" for o in decided], seed=seed),
            "loss_rate": mean_entry([o == "loss" for o in decided], seed=seed),
            "inconsistent": mean_entry([r["inconsistent"] for r in rows if r["outcome_for_x"]],
                                       seed=seed, count=sum(r["inconsistent"] for r in rows),
                                       note="verdict changed with the order; counted as a tie"),
            "undecided": mean_entry([r["outcome_for_x"] is None for r in rows], seed=seed,
                                    count=len(failed), unparsable_verdicts=unparsable,
                                    judge_errors=errors,
                                    note="items without a usable verdict in both orders"),
        }
    if len(names) > 2:
        results["bradley_terry"] = bradley_terry_entries(records, names, seed)
    return results


def _games(records: Sequence[dict[str, Any]]) -> list[Game]:
    games = []
    score = {"A": 1.0, "B": 0.0, "tie": 0.5}
    for r in records:
        if r["verdict_xy"] is not None:
            games.append(Game(r["system_x"], r["system_y"], score[r["verdict_xy"]]))
        if r["verdict_yx"] is not None:
            games.append(Game(r["system_y"], r["system_x"], score[r["verdict_yx"]]))
    return games


def bradley_terry_entries(records: Sequence[dict[str, Any]], names: Sequence[str],
                          seed: int = 0) -> dict[str, Any]:
    """Strengths (sum 1) per system with item-bootstrap CIs, plus the first-position term."""
    fit = fit_bradley_terry(_games(records))
    item_ids = sorted({r["id"] for r in records})
    by_item: dict[str, list[dict[str, Any]]] = {i: [] for i in item_ids}
    for r in records:
        by_item[r["id"]].append(r)
    cis = {}
    for name in names:
        def stat(idx: np.ndarray, name: str = name) -> float:
            sample = [r for i in idx for r in by_item[item_ids[i]]]
            return fit_bradley_terry(_games(sample), max_iter=500, tol=1e-8).strengths.get(name, 0.0)
        cis[name] = bootstrap_ci(len(item_ids), stat, n_resamples=BT_RESAMPLES, seed=seed)
    elo = elo_scale(fit.strengths)
    out: dict[str, Any] = {
        n: metric_entry(fit.strengths[n], cis[n], len(item_ids), elo=round(elo[n], 1)) for n in names
    }
    out["first_position_advantage"] = {"value": fit.home_advantage, "ci95": [None, None],
                                       "n": len(item_ids), "note": "theta; 1.0 = no position bias"}
    return out


def run_compare(
    runs: Sequence[str | Path],
    out_dir: str | Path,
    llm: LLM,
    prompt: str = DEFAULT_PAIRWISE_PROMPT,
    max_attempts: int = 3,
    seed: int = 0,
    names: Sequence[str] | None = None,
    judge_info: dict[str, Any] | None = None,
    judge_max_tokens: int = 512,
) -> dict[str, dict[str, Any]]:
    out = Path(out_dir)
    manifest = Manifest(out, "eval-compare", config={
        "prompt": prompt, "max_attempts": max_attempts, "seed": seed,
        "judge": judge_info or llm.identity(), "judge_max_tokens": judge_max_tokens})
    systems: dict[str, list[dict[str, Any]]] = {}
    for k, run in enumerate(runs):
        name, rows = load_system(run)
        if names:
            name = names[k]
        if name in systems:
            name = f"{name}_{k}"
        p = Path(run)
        manifest.add_input(name, p / "answers.jsonl" if p.is_dir() else p)
        systems[name] = rows
    results, records = compare_systems(llm, systems, prompt, max_attempts, seed, judge_max_tokens)
    with JsonlWriter(out / "pairwise.jsonl") as fh:
        for r in records:
            fh.write(r)
    write_json(out / "results.json", results)
    manifest.set("systems", list(systems))
    manifest.write()
    from oshie.eval.report import write_eval_report

    clean = {k: {m: e for m, e in v.items() if e.get("ci95", [None])[0] is not None}
             for k, v in results.items()}
    rows = [[r["id"], r["system_x"], r["system_y"], r["verdict_xy"], r["verdict_yx"],
             r["outcome_for_x"], r["inconsistent"]] for r in records]
    write_eval_report(out / "report.html", clean, {}, model=" / ".join(systems),
                      title="oshie eval compare", extra_sections=[{
                          "title": "判定 / verdicts", "header": ["id", "X", "Y", "X first", "Y first",
                                                                  "outcome for X", "inconsistent"],
                          "rows": rows}])
    return results
