"""MARC-ja (JGLUE): review sentiment scored over ポジティブ / ネガティブ.

Format: JSON lines with `sentence` and `label` positive / negative (`review_id` optional).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oshie.errors import DataError
from oshie.eval.tasks.base import ChoiceTask, Item, need, read_jsonl, register
from oshie.eval.tasks.labels import label_metrics

LABELS = ("positive", "negative")
WORDS = ("ポジティブ", "ネガティブ")


@register
class MarcJa(ChoiceTask):
    name = "marc_ja"
    default_shots = 3
    instruction = "次の商品レビューが肯定的か否定的かを、ポジティブかネガティブのどちらかで答えてください。"
    description = "JGLUE MARC-ja: review sentiment by label-word log-likelihood"

    def load(self, path: Path) -> list[Item]:
        items = []
        for line, obj in read_jsonl(path):
            label = need(obj, "label", path, line)
            if label not in LABELS:
                raise DataError(f"label {label!r} is not one of {', '.join(LABELS)}",
                                path=path, line=line, field="label")
            items.append({
                "id": str(obj.get("review_id", line)),
                "sentence": need(obj, "sentence", path, line),
                "label": LABELS.index(label),
            })
        return items

    def query(self, item: Item) -> str:
        return f"レビュー: {item['sentence']}"

    def choices(self, item: Item) -> list[str]:
        return list(WORDS)

    def gold_index(self, item: Item) -> int:
        return item["label"]

    def aggregate(self, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return label_metrics(records, LABELS, self.spec.seed)
