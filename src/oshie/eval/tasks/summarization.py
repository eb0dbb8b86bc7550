"""Summarisation: generate a summary, score ROUGE-1/2/L F over characters and morphemes.

Format: JSON lines with the source in `text` (or `source` / `document` / `input`) and
references in `references` (list) or `reference` / `summary` / `output` (string).
Metric keys say their unit: `rougeL_char`, `rougeL_morph`, ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oshie.eval.metrics.bootstrap import mean_entry
from oshie.eval.metrics.rouge import rouge_scores
from oshie.eval.tasks.base import GenerateTask, Item, ReferenceTask, register

SOURCE_FIELDS = ("text", "source", "document", "input")
REFERENCE_FIELDS = ("references", "reference", "summary", "output")


@register
class Summarization(ReferenceTask, GenerateTask):
    name = "summarization"
    default_shots = 0
    default_max_new_tokens = 128
    instruction = "次の文章を、大事な点を落とさずに一、二文で要約してください。"
    description = "Summarisation: ROUGE-1/2/L F over characters and morphemes"
    input_key, input_fields, input_what = "source", SOURCE_FIELDS, "source text"
    reference_fields, reference_what = REFERENCE_FIELDS, "reference summary"

    def record(self, item: Item, prompt: str, response: str) -> dict[str, Any]:
        pred = response.strip()
        scores = {}
        for unit in ("char", "morph"):
            for k, v in rouge_scores(pred, item["references"], unit).items():
                scores[f"{k}_{unit}"] = v
        return {"id": item["id"], "prompt": prompt, "output": pred, "gold": item["references"],
                **scores}

    def aggregate(self, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out = {}
        for unit in ("char", "morph"):
            for k in ("rouge1", "rouge2", "rougeL"):
                key = f"{k}_{unit}"
                out[key] = mean_entry([r[key] for r in records], seed=self.spec.seed, unit=unit)
        return out
