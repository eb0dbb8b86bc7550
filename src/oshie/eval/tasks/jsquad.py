"""JSQuAD (JGLUE): extractive reading comprehension, answered by greedy generation.

Format: SQuAD v1.1 JSON: {"data": [{"title", "paragraphs": [{"context", "qas": [{"id",
"question", "answers": [{"text", "answer_start"}]}]}]}]}. Generation stops at a newline
and is capped a little above the longest gold answer (in tokens) of the file.
Metrics: `em`, `f1` over morphemes (fugashi + unidic-lite), `f1_char` over characters;
each the max over an item's gold answers, after NFKC and punctuation/space removal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oshie.errors import DataError
from oshie.eval.metrics.bootstrap import mean_entry
from oshie.eval.metrics.qa import exact_match, f1_char, f1_morph
from oshie.eval.tasks.base import GenerateTask, Item, register

ANSWER_MARGIN_TOKENS = 4
SEP = "[SEP]"


def split_title(context: str, title: str) -> tuple[str, str]:
    """(title, passage) of a JGLUE context "title [SEP] passage"."""
    if SEP not in context:
        return title, context
    head, passage = context.rsplit(SEP, 1)
    return (title or head.strip()), passage.strip()


def _load_squad(path: Path) -> list[Item]:
    if not path.is_file():
        raise DataError("file not found", path=path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise DataError("expected SQuAD v1.1 JSON with a top-level 'data' list", path=path,
                        field="data")
    items = []
    for a, article in enumerate(doc["data"]):
        for p, para in enumerate(article.get("paragraphs", [])):
            where = f"data[{a}].paragraphs[{p}]"
            if not isinstance(para.get("context"), str):
                raise DataError("missing context", path=path, field=f"{where}.context")
            for q, qa in enumerate(para.get("qas", [])):
                golds = [x.get("text", "") for x in qa.get("answers", []) if x.get("text")]
                if not qa.get("question") or not golds:
                    raise DataError("each question needs 'question' and non-empty 'answers'",
                                    path=path, field=f"{where}.qas[{q}]")
                title, passage = split_title(para["context"], str(article.get("title") or ""))
                items.append({"id": str(qa.get("id", f"{a}-{p}-{q}")), "title": title,
                              "context": passage, "question": qa["question"], "answers": golds})
    return items


@register
class JSQuAD(GenerateTask):
    name = "jsquad"
    default_shots = 2
    default_max_new_tokens = 32
    stop = ("\n",)
    instruction = "文章を読んで、質問の答えを文章の中から抜き出して短く答えてください。"
    description = "JGLUE JSQuAD: extractive QA, EM / F1 over morphemes and characters"

    def load(self, path: Path) -> list[Item]:
        return _load_squad(path)

    def query(self, item: Item) -> str:
        title = f"題名: {item['title']}\n" if item.get("title") else ""
        return f"{title}文章: {item['context']}\n質問: {item['question']}"

    def evidence(self, item: Item) -> list[str]:
        return list(item["answers"])

    def answer_text(self, item: Item) -> str:
        return item["answers"][0]

    def max_new_tokens(self, encode) -> int:
        if self.spec.max_new_tokens:
            return self.spec.max_new_tokens
        longest = max((len(encode(g)) for it in self.all_items for g in it["answers"]), default=16)
        return longest + ANSWER_MARGIN_TOKENS

    def record(self, item: Item, prompt: str, response: str) -> dict[str, Any]:
        pred = response.strip()
        golds = item["answers"]
        return {"id": item["id"], "prompt": prompt, "output": pred, "gold": golds,
                "em": exact_match(pred, golds), "f1": f1_morph(pred, golds),
                "f1_char": f1_char(pred, golds), "correct": bool(exact_match(pred, golds))}

    def aggregate(self, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        seed = self.spec.seed
        return {
            "em": mean_entry([r["em"] for r in records], seed=seed),
            "f1": mean_entry([r["f1"] for r in records], seed=seed, unit="morph"),
            "f1_char": mean_entry([r["f1_char"] for r in records], seed=seed, unit="char"),
        }
