"""Label-word classification tasks (JNLI, MARC-ja): the shared task shape and its metrics.

A `LabelTask` is data: the file's `label` names one of `labels`, the model is scored on the
matching Japanese word, and the query lists the item's text fields, each after its caption.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from oshie.errors import DataError
from oshie.eval.metrics.bootstrap import bootstrap_ci, metric_entry
from oshie.eval.metrics.classification import accuracy, balanced_accuracy, macro_f1
from oshie.eval.tasks.base import ChoiceTask, Item, need


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


class LabelTask(ChoiceTask):
    """A task whose answer is one of a few fixed label words, scored by log-likelihood."""

    labels: ClassVar[tuple[str, ...]]            # label values as the file writes them
    words: ClassVar[tuple[str, ...]]             # the Japanese word scored for each label
    id_field: ClassVar[str]                      # the item id in the file (default: line number)
    fields: ClassVar[tuple[tuple[str, str], ...]]  # (text field, its caption in the query)

    def parse_item(self, obj: dict[str, Any], path: Path, line: int) -> Item:
        label = need(obj, "label", path, line)
        if label not in self.labels:
            raise DataError(f"label {label!r} is not one of {', '.join(self.labels)}",
                            path=path, line=line, field="label")
        item: Item = {"id": str(obj.get(self.id_field, line))}
        for name, _ in self.fields:
            item[name] = need(obj, name, path, line)
        item["label"] = self.labels.index(label)
        return item

    def query(self, item: Item) -> str:
        return "\n".join(f"{caption}: {item[name]}" for name, caption in self.fields)

    def choices(self, item: Item) -> list[str]:
        return list(self.words)

    def gold_index(self, item: Item) -> int:
        return item["label"]

    def aggregate(self, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return label_metrics(records, self.labels, self.spec.seed)
