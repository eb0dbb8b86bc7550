"""JCommonsenseQA (JGLUE): five-way commonsense multiple choice.

Format: JSON lines with `q_id`, `question`, `choice0`..`choice4`, `label` (0-4).
Metrics: `acc` (argmax of summed log-prob) and `acc_norm` (log-prob per character).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oshie.errors import DataError
from oshie.eval.metrics.bootstrap import mean_entry
from oshie.eval.tasks.base import ChoiceTask, Item, need, register

N_CHOICES = 5


@register
class JCommonsenseQA(ChoiceTask):
    name = "jcommonsenseqa"
    default_shots = 3
    instruction = "次の質問に対する答えとして最も適切なものを、選択肢の中から一つ選んでください。"
    description = "JGLUE JCommonsenseQA: 5-way multiple choice by log-likelihood"

    def parse_item(self, obj: dict[str, Any], path: Path, line: int) -> Item:
        choices = [need(obj, f"choice{k}", path, line) for k in range(N_CHOICES)]
        label = need(obj, "label", path, line, int)
        if not 0 <= label < N_CHOICES:
            raise DataError(f"label {label} is not 0-4", path=path, line=line, field="label")
        return {
            "id": str(obj.get("q_id", line)),
            "question": need(obj, "question", path, line),
            "choices": choices, "label": label,
        }

    def query(self, item: Item) -> str:
        return f"質問: {item['question']}\n選択肢: " + "、".join(item["choices"])

    def choices(self, item: Item) -> list[str]:
        return item["choices"]

    def gold_index(self, item: Item) -> int:
        return item["label"]

    def aggregate(self, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        seed = self.spec.seed
        return {
            "acc": mean_entry([r["correct"] for r in records], seed=seed),
            "acc_norm": mean_entry([r["correct_norm"] for r in records], seed=seed,
                                   note="log-prob divided by the choice's character length"),
        }
