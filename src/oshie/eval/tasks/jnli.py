"""JNLI (JGLUE): natural language inference scored over Japanese label words.

Format: JSON lines with `sentence_pair_id`, `sentence1`, `sentence2`,
`label` in entailment / contradiction / neutral. Choices: 含意 / 矛盾 / 中立.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oshie.errors import DataError
from oshie.eval.tasks.base import ChoiceTask, Item, need, read_jsonl, register
from oshie.eval.tasks.labels import label_metrics

LABELS = ("entailment", "contradiction", "neutral")
WORDS = ("含意", "矛盾", "中立")


@register
class JNLI(ChoiceTask):
    name = "jnli"
    default_shots = 3
    instruction = "前提の文から仮説の文が言えるかどうかを、含意・矛盾・中立のどれか一語で答えてください。"
    description = "JGLUE JNLI: entailment / contradiction / neutral by label-word log-likelihood"

    def load(self, path: Path) -> list[Item]:
        items = []
        for line, obj in read_jsonl(path):
            label = need(obj, "label", path, line)
            if label not in LABELS:
                raise DataError(f"label {label!r} is not one of {', '.join(LABELS)}",
                                path=path, line=line, field="label")
            items.append({
                "id": str(obj.get("sentence_pair_id", line)),
                "sentence1": need(obj, "sentence1", path, line),
                "sentence2": need(obj, "sentence2", path, line),
                "label": LABELS.index(label),
            })
        return items

    def query(self, item: Item) -> str:
        return f"前提: {item['sentence1']}\n仮説: {item['sentence2']}"

    def choices(self, item: Item) -> list[str]:
        return list(WORDS)

    def gold_index(self, item: Item) -> int:
        return item["label"]

    def aggregate(self, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return label_metrics(records, LABELS, self.spec.seed)
