"""Shared metrics for label-word classification tasks (JNLI, MARC-ja)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from oshie.eval.metrics.bootstrap import bootstrap_ci, metric_entry
from oshie.eval.metrics.classification import accuracy, balanced_accuracy, macro_f1


def label_metrics(records: Sequence[dict[str, Any]], labels: Sequence[str], seed: int) -> dict:
    gold = [labels[r["gold"]] for r in records]
    pred = [labels[r["pred"]] for r in records]
    n = len(records)
    out = {}
    for key, fn in (
        ("acc", lambda g, p: accuracy(g, p)),
        ("balanced_acc", lambda g, p: balanced_accuracy(g, p, labels)),
        ("macro_f1", lambda g, p: macro_f1(g, p, labels)),
    ):
        def stat(idx: np.ndarray, fn=fn) -> float:
            return fn([gold[i] for i in idx], [pred[i] for i in idx])

        out[key] = metric_entry(fn(gold, pred), bootstrap_ci(n, stat, seed=seed), n)
    return out
