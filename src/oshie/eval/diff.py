"""`oshie eval diff RUN_A RUN_B`: paired comparison of two eval runs on their common items.

    results = diff_runs("runs/eval-clean", "runs/eval-flawed")
    for r in results: print(r.metric, r.diff, r.ci95, r.p, r.p_holm, r.verdict)

A metric takes part when it is a mean over items whose per-item value is in the task's
`items.jsonl` (accuracy from `correct`, a response-audit `<check>_rate` from the flag
`<check>`, EM/F1/ROUGE/loss from the field of the same name); corpus-level metrics (macro-F1, balanced accuracy) have no per-item value and
are listed as skipped. Items are matched by id; only ids present in both runs count.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oshie.errors import DataError
from oshie.eval.metrics.paired import PairedResult, compare, mark_holm

ITEMS_FILE = "items.jsonl"
RESULTS_FILE = "results.json"
# metric name -> the per-item field it is the mean of, where the two differ
ITEM_FIELDS = {"acc": "correct", "acc_norm": "correct_norm"}
def lower_is_better(metric: str) -> bool:
    """Losses and defect rates: a smaller value is the better one."""
    name = metric.rsplit("/", 1)[-1]
    return name == "loss" or name.endswith("_loss") or name.endswith("rate")


def item_field(record: dict[str, Any], metric: str) -> str:
    """The per-item field a metric is the mean of: `acc` of `correct`, a defect rate
    (`<check>_rate`) of the 0/1 flag `<check>`, anything else of the field of its name."""
    field = ITEM_FIELDS.get(metric, metric)
    if field not in record and metric.endswith("_rate"):
        return metric.removesuffix("_rate")
    return field


def item_values(records: Sequence[dict[str, Any]], metric: str) -> dict[str, float] | None:
    """id -> the item's value of `metric`, or None when the metric is not a per-item mean."""
    if not records:
        return {}
    field = item_field(records[0], metric)
    out: dict[str, float] = {}
    for r in records:
        v = r.get(field)
        if isinstance(v, bool) or isinstance(v, int | float):
            out[str(r["id"])] = float(v)
        else:
            return None
    return out


def read_items(run_dir: Path, task: str) -> list[dict[str, Any]]:
    path = run_dir / task / ITEMS_FILE
    if not path.is_file():
        return []
    rows = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", path=path, line=n) from exc
    return rows


def read_results(run_dir: Path) -> dict[str, dict[str, Any]]:
    path = Path(run_dir) / RESULTS_FILE
    if not path.is_file():
        raise DataError(
            "not an eval run directory (no results.json)",
            path=run_dir,
            hint="pass the --out directory of `oshie eval run`",
        )
    return json.loads(path.read_text("utf-8"))


def compare_metric(
    items_a: Sequence[dict[str, Any]],
    items_b: Sequence[dict[str, Any]],
    metric: str,
    name: str,
    seed: int = 0,
    label: str = "",
) -> PairedResult | None:
    """B - A on one metric over the ids both runs scored; None if not a per-item mean."""
    va, vb = item_values(items_a, metric), item_values(items_b, metric)
    if va is None or vb is None:
        return None
    common = [i for i in va if i in vb]
    if not common:
        return None
    return compare(
        [va[i] for i in common],
        [vb[i] for i in common],
        metric=name,
        seed=seed,
        label=label,
        lower_is_better=lower_is_better(name),
    )


def diff_runs(
    run_a: str | Path, run_b: str | Path, seed: int = 0, label: str = ""
) -> tuple[list[PairedResult], list[str]]:
    """Every shared per-item metric of two runs, Holm-corrected together.

    Returns (comparisons, skipped metric names)."""
    a, b = Path(run_a), Path(run_b)
    res_a, res_b = read_results(a), read_results(b)
    results: list[PairedResult] = []
    skipped: list[str] = []
    for task in [t for t in res_a if t in res_b]:
        items_a, items_b = read_items(a, task), read_items(b, task)
        # a metric either run reports (a defect rate is listed only where the defect occurred;
        # the items carry every check's flag, so the other run's zeros still pair with it)
        for metric in dict.fromkeys([*res_a[task], *res_b[task]]):
            r = compare_metric(items_a, items_b, metric, f"{task}/{metric}", seed, label)
            if r is None:
                skipped.append(f"{task}/{metric}")
            else:
                results.append(r)
    mark_holm(results)
    return results, skipped
