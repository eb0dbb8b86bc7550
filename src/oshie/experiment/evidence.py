"""What a reader needs beside the numbers not to be misled by them.

- chance and majority-class accuracy of each multiple-choice / label task (a tiny model at
  0.50 on a two-label task with balanced labels has learnt nothing);
- a warning when a model gives one answer for >= 90% of a task's items (its accuracy is then
  the share of that label, not understanding);
- a few generated answers per row side by side (a score hides what the text looks like);
- the mechanism behind a response-audit difference: the same check's rate in the training
  data of the two variants beside the rate in their models' answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from oshie.eval.response_audit import ANY
from oshie.eval.response_audit import TASK as AUDIT_TASK
from oshie.experiment.compare import Comparison, Items
from oshie.experiment.plan import Row

ONE_ANSWER_SHARE = 0.9
SAMPLES_PER_TASK = 3
ACCURACY_METRICS = ("acc", "acc_norm")


def choice_baselines(items: dict[str, Items]) -> dict[str, dict[str, Any]]:
    """task -> {"chance", "majority", "majority_label"} for tasks answered by choosing.

    Chance is the mean over items of 1 / number of choices; majority is the accuracy of
    always answering the most frequent gold label (or gold position, when every item has
    its own choices)."""
    out: dict[str, dict[str, Any]] = {}
    for by_task in items.values():
        for task, recs in by_task.items():
            if task in out or not recs or "choices" not in recs[0] or "gold" not in recs[0]:
                continue
            chance = sum(1 / len(r["choices"]) for r in recs) / len(recs)
            golds = Counter(_answer(r, recs, "gold") for r in recs)
            label, count = golds.most_common(1)[0]
            out[task] = {"chance": chance, "majority": count / len(recs), "majority_label": label}
    return out


def _answer(rec: dict[str, Any], recs: Sequence[dict[str, Any]], key: str) -> str:
    """An answer as a label word when every item offers the same labels (JNLI, MARC-ja),
    else as the choice's position (JCommonsenseQA: each item has its own five words)."""
    if all(r["choices"] == recs[0]["choices"] for r in recs):
        return rec["choices"][rec[key]]
    return f"choice #{rec[key]}"


def metric_baselines(names: Sequence[str], items: dict[str, Items]) -> dict[str, dict[str, Any]]:
    """'task/acc' -> the task's chance and majority lines (accuracy metrics only)."""
    base = choice_baselines(items)
    out = {}
    for n in names:
        task, _, metric = n.partition("/")
        if metric in ACCURACY_METRICS and task in base:
            out[n] = base[task]
    return out


def one_answer_warnings(rows: Sequence[Row], items: dict[str, Items]) -> list[dict[str, Any]]:
    """Rows that give one answer for >= ONE_ANSWER_SHARE of a choice task's items."""
    warnings = []
    for r in rows:
        for task, recs in items[r.eval_stage].items():
            if not recs or "choices" not in recs[0] or "pred" not in recs[0]:
                continue
            answers = Counter(_answer(rec, recs, "pred") for rec in recs)
            answer, count = answers.most_common(1)[0]
            share = count / len(recs)
            if share >= ONE_ANSWER_SHARE:
                warnings.append(
                    {"model": r.model, "variant": r.variant, "task": task, "answer": answer,
                     "share": share, "n": len(recs)}
                )
    return warnings


def sample_outputs(
    rows: Sequence[Row], items: dict[str, Items], k: int = SAMPLES_PER_TASK
) -> list[dict[str, Any]]:
    """The first k generated items of each generation task, every row's answer side by side."""
    samples = []
    first = items[rows[0].eval_stage] if rows else {}
    for task, recs in first.items():
        if task == AUDIT_TASK or not recs or not isinstance(recs[0].get("output"), str):
            continue
        for rec in recs[:k]:
            outputs = {}
            for r in rows:
                match = next((x for x in items[r.eval_stage].get(task, []) if x["id"] == rec["id"]), None)
                outputs[f"{r.model}/{r.variant}"] = match.get("output", "") if match else ""
            gold = rec.get("gold", "")
            samples.append(
                {"task": task, "id": rec["id"],
                 "input": rec.get("instruction") or _tail(rec.get("prompt", "")),
                 "reference": gold[0] if isinstance(gold, list) and gold else gold,
                 "outputs": outputs}
            )
    return samples


def _tail(prompt: str, n: int = 160) -> str:
    return prompt if len(prompt) <= n else "…" + prompt[-n:]


def mechanism_notes(
    comparisons: Sequence[Comparison], data_audits: dict[str, dict[str, Any]]
) -> list[str]:
    """One sentence per significant response-audit difference between two tuned variants,
    setting the defect's share of the models' answers beside its share of their training
    records (same check), which is what the model learnt it from."""
    notes = []
    for c in comparisons:
        res = c.result
        task, _, metric = res.metric.partition("/")
        if task != AUDIT_TASK or not res.significant or c.a == "base" or metric == f"{ANY}_rate":
            continue
        code = metric.removesuffix("_rate")
        worse, better = (c.b, c.a) if res.diff > 0 else (c.a, c.b)
        rate = {c.a: res.a, c.b: res.b}
        lo, hi = res.ci95 if worse == c.b else (-res.ci95[1], -res.ci95[0])

        def share(variant: str, code: str = code) -> tuple[str, float | None]:
            audit = data_audits.get(variant)
            if not audit or not audit.get("records"):
                return "not audited", None
            flagged = audit.get("by_check", {}).get(code, 0)
            text = f"{flagged}/{audit['records']} records ({flagged / audit['records']:.0%})"
            if audit.get("kept") is not None:
                text += f" before the audit filter, which kept {audit['kept']},"
            return text, flagged / audit["records"]

        (worse_text, worse_share), (better_text, better_share) = share(worse), share(better)
        if worse_share is not None and better_share is not None and worse_share > better_share:
            cause = "the model reproduces what its training answers look like."
        else:
            cause = ("the training data do not show this defect more often, so it is not "
                     "copied from them (a smaller or narrower training set can still leave a "
                     "model looping or cut short).")
        notes.append(
            f"{c.model}/{worse} writes answers flagged {code} {rate[worse]:.0%} of the time "
            f"against {rate[better]:.0%} for {c.model}/{better} (paired difference "
            f"{abs(res.diff):.0%}, 95% CI [{lo:+.0%}, {hi:+.0%}], Holm p {res.p_holm:.2g}). "
            f"The same check flags {worse_text} of the {worse} training data and "
            f"{better_text} of the {better} training data: {cause}"
        )
    return notes
