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
from oshie.eval.requests import GenerateRequest
from oshie.eval.tasks.base import Item, Task, read_jsonl, register

SOURCE_FIELDS = ("text", "source", "document", "input")
REFERENCE_FIELDS = ("references", "reference", "summary", "output")
DEFAULT_MAX_NEW_TOKENS = 128


@register
class Summarization(Task):
    name = "summarization"
    kind = "generate"
    default_shots = 0
    instruction = "次の文章を、大事な点を落とさずに一、二文で要約してください。"
    description = "Summarisation: ROUGE-1/2/L F over characters and morphemes"

    def load(self, path: Path) -> list[Item]:
        items = []
        for line, obj in read_jsonl(path):
            source = next((obj[f] for f in SOURCE_FIELDS if isinstance(obj.get(f), str)), None)
            if not source:
                raise DataError("missing source text", path=path, line=line,
                                field="/".join(SOURCE_FIELDS))
            ref = next((obj[f] for f in REFERENCE_FIELDS if obj.get(f)), None)
            refs = [ref] if isinstance(ref, str) else ref
            if not refs or not all(isinstance(r, str) and r.strip() for r in refs):
                raise DataError("missing or empty reference summary", path=path, line=line,
                                field="/".join(REFERENCE_FIELDS))
            items.append({"id": str(obj.get("id", line)), "source": source, "references": refs})
        return items

    def query(self, item: Item) -> str:
        return item["source"]

    def answer_text(self, item: Item) -> str:
        return item["references"][0]

    def max_new_tokens(self, encode) -> int:
        return self.spec.max_new_tokens or DEFAULT_MAX_NEW_TOKENS

    def request(self, item: Item, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS) -> GenerateRequest:
        return GenerateRequest(self.prompt(item), max_new_tokens=max_new_tokens, stop=["\n\n"])

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
