"""Contamination: how much of an evaluation set appears in training records (n-gram containment).

Evaluation sets are read as files: JGLUE JSON lines (JCommonsenseQA, JNLI, MARC-ja), SQuAD-style
JSON (JSQuAD), ELYZA-style CSV (input, output, eval_aspect), any JSON lines/CSV/TSV, and any
record file `oshie.data.io` reads. Every string field of an item long enough to be telling is a
*segment*; a training record is contaminated by a segment when at least `threshold` of the
segment's character n-grams occur in the record (containment, not Jaccard: a long training
record that quotes a short question in full is contaminated).
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oshie.errors import DataError

# fields that never carry evaluation text worth matching (labels, ids, metadata)
_SKIP_KEYS = {"id", "q_id", "qid", "label", "labels", "answer_start", "sentence_pair_id",
              "yjcaptions_id", "review_id", "is_impossible", "license", "source_url", "version"}


class ContaminationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ngram: int = Field(10, ge=3, description="characters per n-gram (after NFKC, without whitespace and punctuation)")
    threshold: float = Field(0.5, gt=0, le=1, description="share of a segment's n-grams found in a record")
    min_chars: int = Field(10, ge=1, description="shorter segments (choices, labels) are not matched; "
                           "segments shorter than ngram must appear whole")


@dataclass(frozen=True)
class Segment:
    """A piece of evaluation text: which file, which item, which field."""

    source: str
    item: str
    field: str
    text: str


@dataclass
class Hit:
    segment: Segment
    containment: float
    start: int  # span in the record text (first to last matched n-gram)
    end: int


def _strings(obj: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(obj, str):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if str(k).lower() not in _SKIP_KEYS:
                yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _strings(v, f"{path}[{i}]")


def _items_from_json(path: Path, text: str) -> Iterator[tuple[str, Any]]:
    stripped = text.lstrip()
    try:
        whole = json.loads(stripped) if stripped[:1] in "[{" else None
    except json.JSONDecodeError:
        whole = None  # JSON lines
    if isinstance(whole, dict) and isinstance(whole.get("data"), list):
        # SQuAD layout: data -> paragraphs -> (context, qas -> question, answers)
        for a, article in enumerate(whole["data"]):
            for p, para in enumerate(article.get("paragraphs", [])):
                yield f"{a}.{p}", {"context": para.get("context", "")}
                for q in para.get("qas", []):
                    yield str(q.get("id", f"{a}.{p}")), {"question": q.get("question", ""),
                                                         "answers": [x.get("text", "") for x in q.get("answers", [])]}
        return
    if isinstance(whole, list):
        for i, item in enumerate(whole):
            yield str(item.get("id", i) if isinstance(item, dict) else i), item
        return
    if isinstance(whole, dict):
        yield str(whole.get("id", "0")), whole
        return
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON ({exc.msg})", path=path, line=n,
                            hint="evaluation sets are JSON lines, a JSON array, SQuAD JSON or CSV") from exc
        key = next((str(item[k]) for k in ("id", "q_id", "sentence_pair_id", "review_id") if isinstance(item, dict) and k in item), str(n))
        yield key, item


def load_eval_segments(path: str | Path, min_chars: int = 10) -> list[Segment]:
    """The matchable text segments of one evaluation file."""
    p = Path(path)
    if not p.is_file():
        raise DataError("evaluation set not found", path=p, hint="pass an existing file to --eval-set")
    suffix = p.suffix.lower()
    items: Iterator[tuple[str, Any]]
    if suffix in (".json", ".jsonl"):
        items = _items_from_json(p, p.read_text("utf-8-sig"))
    elif suffix in (".csv", ".tsv"):
        with open(p, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ","))
        items = ((str(i + 2), row) for i, row in enumerate(rows))  # line numbers as item ids
    else:
        from oshie.data.io import load_records

        items = ((r.id, {"instruction": r.instruction, "answer": getattr(r, "answer", "") or getattr(r, "chosen_text", "")})
                 for r in load_records(p))
    # JGLUE names every split valid-v1.1.json: keep the task folder in the name
    name = f"{p.parent.name}/{p.name}" if p.parent.name else p.name
    segments: dict[str, Segment] = {}
    for item_id, item in items:
        for field, text in _strings(item):
            if len(_compact(text)[0]) >= min_chars and text not in segments:
                segments[text] = Segment(name, item_id, field, text)  # JSQuAD repeats contexts
    return list(segments.values())


def _compact(text: str) -> tuple[str, list[int]]:
    """NFKC, lower case, no whitespace or punctuation, with each kept character's offset in
    `text` (so a hit can be shown on the original). A comma added or a space removed in
    the copied item does not hide it."""
    chars: list[str] = []
    where: list[int] = []
    fast = unicodedata.is_normalized("NFKC", text)
    for i, ch in enumerate(text):
        if ch.isspace():
            continue
        norm = (ch if fast else unicodedata.normalize("NFKC", ch)).lower()
        for c in norm:
            if not c.isspace() and not unicodedata.category(c).startswith("P"):
                chars.append(c)
                where.append(i)
    return "".join(chars), where


class ContaminationIndex:
    """n-gram index over evaluation segments; `query(text)` lists the segments a text contains."""

    def __init__(self, segments: Sequence[Segment], config: ContaminationConfig | None = None) -> None:
        self.config = config or ContaminationConfig()
        self.segments = list(segments)
        n = self.config.ngram
        self.sizes: list[int] = []
        self.postings: dict[str, list[int]] = {}
        for k, seg in enumerate(self.segments):
            text = _compact(seg.text)[0]
            grams = {text[i : i + n] for i in range(len(text) - n + 1)} or {text}
            self.sizes.append(len(grams))
            for g in grams:
                self.postings.setdefault(g, []).append(k)

    def query(self, text: str) -> list[Hit]:
        n = self.config.ngram
        comp, where = _compact(text)
        if not comp:
            return []
        counts: dict[int, int] = {}
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        seen: set[str] = set()
        windows = range(len(comp) - n + 1) if len(comp) >= n else [0]
        for i in windows:
            g = comp[i : i + n]
            if g in seen:
                continue
            seen.add(g)
            for k in self.postings.get(g, ()):
                counts[k] = counts.get(k, 0) + 1
                first.setdefault(k, i)
                last[k] = i
        hits = []
        for k, c in counts.items():
            share = c / self.sizes[k]
            if share >= self.config.threshold:
                end_c = min(last[k] + n, len(comp)) - 1
                hits.append(Hit(self.segments[k], round(share, 3), where[first[k]], where[end_c] + 1))
        return sorted(hits, key=lambda h: -h.containment)


def build_index(paths: Sequence[str | Path], config: ContaminationConfig | None = None) -> ContaminationIndex:
    cfg = config or ContaminationConfig()
    segments: list[Segment] = []
    for p in paths:
        segments += load_eval_segments(p, cfg.min_chars)
    return ContaminationIndex(segments, cfg)
