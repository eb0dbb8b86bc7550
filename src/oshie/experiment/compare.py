"""Paired comparisons between the rows of an experiment, Holm-corrected across the report.

Every row of one base model was evaluated on the same items, so two rows are compared on
per-item differences (`oshie.eval.metrics.paired`): each tuned variant against the untuned
base (the table's Δ) and every two variants against each other. All comparisons of one
report form one family for Holm's correction: a difference is called (and coloured) only
when it survives it; otherwise the report says "no detectable difference".
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from oshie.eval.diff import compare_metric, read_items
from oshie.eval.metrics.paired import PairedResult, mark_holm
from oshie.experiment.cache import StageOutput
from oshie.experiment.plan import BASE_ROW, Row

Items = dict[str, list[dict[str, Any]]]  # task -> per-item records


@dataclass
class Comparison:
    """B minus A for one metric, between two rows of one base model."""

    model: str
    a: str  # variant (or "base")
    b: str
    result: PairedResult

    @property
    def metric(self) -> str:
        return self.result.metric

    def to_dict(self) -> dict[str, Any]:
        """The comparison for results.json: which rows (`row_a`, `row_b`), then the paired
        result (`a` and `b` there are the two rows' means)."""
        return {"model": self.model, "row_a": self.a, "row_b": self.b, **self.result.to_dict()}


def row_items(eval_stage: StageOutput) -> Items:
    """The per-item records of every task of a row's eval stage."""
    tasks = eval_stage.outputs.get("items", {})
    return {task: read_items(eval_stage.dir, task) for task in tasks}


def _pairs(variants: Sequence[str]) -> list[tuple[str, str]]:
    """Base against each variant first, then every two variants in config order."""
    tuned = [v for v in variants if v != BASE_ROW]
    pairs = [(BASE_ROW, v) for v in tuned] if BASE_ROW in variants else []
    return pairs + list(itertools.combinations(tuned, 2))


def compare_rows(
    rows: Sequence[Row], items: dict[str, Items], metrics: Sequence[str], seed: int = 0
) -> list[Comparison]:
    """Every pair of rows of the same model on every per-item metric; Holm over all."""
    out: list[Comparison] = []
    by_model: dict[str, list[Row]] = {}
    for r in rows:
        by_model.setdefault(r.model, []).append(r)
    for model, model_rows in by_model.items():
        row_of = {r.variant: r for r in model_rows}
        for a, b in _pairs([r.variant for r in model_rows]):
            ia, ib = items[row_of[a].eval_stage], items[row_of[b].eval_stage]
            for name in metrics:
                task, _, metric = name.partition("/")
                if task not in ia or task not in ib:
                    continue
                res = compare_metric(ia[task], ib[task], metric, name, seed, f"{a} vs {b}")
                if res is not None:
                    out.append(Comparison(model, a, b, res))
    mark_holm([c.result for c in out])
    return out


def against_base(comparisons: Sequence[Comparison]) -> dict[tuple[str, str, str], PairedResult]:
    """(model, variant, metric) -> the comparison of that row with its untuned base."""
    return {(c.model, c.b, c.metric): c.result for c in comparisons if c.a == BASE_ROW}
