"""Summarisation: generate a summary, score ROUGE-1/2/L F over characters and morphemes.

Format: JSON lines with the source in `text` (or `source` / `document` / `input`) and
references in `references` (list) or `reference` / `summary` / `output` (string).
Metric keys say their unit: `rougeL_char`, `rougeL_morph`, ...
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oshie.errors import DataError
from oshie.eval.metrics.bootstrap import mean_entry
from oshie.eval.metrics.rouge import rouge_scores
from oshie.eval.tasks.base import GenerateTask, Item, read_jsonl, references_of, register

SOURCE_FIELDS = ("text", "source", "document", "input")
REFERENCE_FIELDS = ("references", "reference", "summary", "output")


@register
class Summarization(GenerateTask):
    name = "summarization"
    default_shots = 0
    default_max_new_tokens = 128
    instruction = "次の文章を、大事な点を落とさずに一、二文で要約してください。"
    description = "Summarisation: ROUGE-1/2/L F over characters and morphemes"

    def load(self, path: Path) -> list[Item]:
        items = []
        for line, obj in read_jsonl(path):
            source = next((obj[f] for f in SOURCE_FIELDS if isinstance(obj.get(f), str)), None)
            if not source:
                raise DataError("missing source text", path=path, line=line,
                                field="/".join(SOURCE_FIELDS))
            refs = references_of(obj, REFERENCE_FIELDS, path, line, "reference summary")
            items.append({"id": str(obj.get("id", line)), "source": source, "references": refs})
        return items

    def query(self, item: Item) -> str:
        return item["source"]

    def answer_text(self, item: Item) -> str:
        return item["references"][0]

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
