"""Exact and near duplicates within and across the checked datasets (MinHash LSH, bounded
memory: `oshie.data.dedup_index`), and records that share an id."""

from __future__ import annotations

import hashlib
from array import array
from typing import Any, Literal

import numpy as np

from oshie.data.check.base import (
    CheckParams,
    DatasetCheck,
    Finding,
    Record,
    register,
    text_fields,
    turns,
)
from oshie.data.dedup import DedupConfig
from oshie.data.dedup_index import StreamingDedup


def record_text(record: Record) -> str:
    """The whole record: every message (system prompt included), in order."""
    return "\n".join(f.text for f in text_fields(record))


def task_answer_text(record: Record) -> str:
    """What makes a record itself: each request and answer, without the shared passage.
    Different questions over the same long document are different records."""
    ts = turns(record)
    if not ts:
        return record_text(record)
    return "\n".join(f"{t.task}\n{t.answer.text}" for t in ts)


class DuplicateParams(CheckParams):
    mode: Literal["task_answer", "whole_record"] = "task_answer"  # whole_record: passages count too
    ngram: int = 5  # characters per shingle
    num_perm: int = 96  # MinHash signature length
    bands: int = 24  # LSH bands (num_perm / bands rows each)
    threshold: float = 0.6  # exact 5-gram Jaccard at or above which records are near-duplicates
    # (0.6 because records are short: three edited characters in a 60-character record
    # already take the Jaccard of its 5-grams down to about 0.6)
    ignore_punctuation: bool = True  # "。" vs "．" or a dropped "、" is not a difference
    fold_variants: bool = True  # "下さい" vs "ください" is not a difference either
    same_answer_min_chars: int = 20  # two records with one answer this long, word for word, are duplicates
    # whatever their questions say (0: off); short answers ("はい", "東京です。") repeat legitimately


@register
class Duplicate(DatasetCheck[DuplicateParams], code="duplicate", severity="warning", family="duplicates"):
    """The record is an exact or near duplicate of an earlier one (request and answer,
    without a shared passage; the first of each cluster is kept)."""

    def __init__(self, params: DuplicateParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        self.cfg = DedupConfig(ngram=p.ngram, num_perm=p.num_perm, bands=p.bands, threshold=p.threshold,
                               ignore_punctuation=p.ignore_punctuation, fold_variants=p.fold_variants)
        self.index = StreamingDedup(self.cfg)
        self.text_of = record_text if p.mode == "whole_record" else task_answer_text
        self.ids: list[str] = []
        self.sources: list[str] = []
        self.clusters: list[dict[str, Any]] = []
        self.answer_hashes = array("Q")  # 0 for answers too short to count

    def observe(self, record: Record, index: int, source: str) -> None:
        p = self.params
        self.index.add(self.text_of(record))
        answer = "".join("".join(t.answer.text.split()) for t in turns(record))
        h = 0
        if p.same_answer_min_chars and len(answer) >= p.same_answer_min_chars:
            h = int.from_bytes(hashlib.blake2b(answer.encode("utf-8"), digest_size=8).digest(), "little") or 1
        self.answer_hashes.append(h)
        self.ids.append(record.id)  # ids and source names are shared strings: a pointer each
        self.sources.append(source)

    def finish(self) -> list[Finding]:
        result = self.index.result()
        found = []
        self.clusters = []
        ids, sources = self.ids, self.sources
        for n, c in enumerate(result.clusters):
            rep = c.representative
            cross = len({sources[m] for m in c.members}) > 1
            preview = self.index.text(rep)[:120]
            self.clusters.append({
                "cluster": n, "kind": c.kind, "size": len(c.members), "cross_dataset": cross,
                "min_similarity": c.min_similarity,
                "representative": {"index": rep, "id": ids[rep], "source": sources[rep]},
                "members": [{"index": m, "id": ids[m], "source": sources[m]} for m in c.members],
                "preview": preview,
            })
            for m in c.members:
                if m == rep:
                    continue
                where = f" in {sources[rep]}" if sources[m] != sources[rep] else ""
                what = "exact duplicate" if c.kind == "exact" else "near duplicate"
                f = Finding(ids[m], self.code, self.level,
                            f"{what} of record '{ids[rep]}'{where} (cluster {n}, {len(c.members)} records)",
                            details={"cluster": n, "representative": ids[rep], "kind": c.kind, "cross_dataset": cross},
                            index=m, context={"before": "", "after": self.index.text(m)[:160]})
                found.append(f)
        found += self._same_answers({m for c in result.clusters for m in c.members if m != c.representative})
        self.index.close()
        return found

    def _same_answers(self, already: set[int]) -> list[Finding]:
        """Records whose (long) answer is word for word an earlier record's answer."""
        h = np.frombuffer(self.answer_hashes, dtype=np.uint64)
        order = np.argsort(h, kind="stable")
        same = np.flatnonzero((h[order][1:] == h[order][:-1]) & (h[order][1:] != 0))
        found, first_of = [], {}
        for k in same.tolist():
            a, b = int(order[k]), int(order[k + 1])
            first = first_of.setdefault(a, a)
            first_of[b] = first
            if b in already:
                continue
            found.append(Finding(self.ids[b], self.code, self.level,
                                 f"same answer, word for word, as record '{self.ids[first]}'",
                                 details={"representative": self.ids[first], "kind": "same_answer"}, index=b,
                                 context={"before": "", "after": self.index.text(b)[:160]}))
        return found


@register
class DuplicateId(DatasetCheck, code="duplicate_id", severity="warning", family="duplicates"):
    """Two records have the same id: joins, reviews and experiments would mix them up."""

    def __init__(self, params: CheckParams | None = None) -> None:
        super().__init__(params)
        self.hashes = array("Q")  # 8 bytes per record: a hash of its id
        self.ids: list[str] = []

    def observe(self, record: Record, index: int, source: str) -> None:
        self.hashes.append(int.from_bytes(hashlib.blake2b(record.id.encode("utf-8"), digest_size=8).digest(), "little"))
        self.ids.append(record.id)

    def finish(self) -> list[Finding]:
        h = np.frombuffer(self.hashes, dtype=np.uint64)
        order = np.argsort(h, kind="stable")
        same = np.flatnonzero(h[order][1:] == h[order][:-1])
        found = []
        first_of: dict[str, int] = {}
        for k in same.tolist():
            a, b = int(order[k]), int(order[k + 1])
            if self.ids[a] != self.ids[b]:
                continue  # a hash collision, not a shared id
            first = first_of.setdefault(self.ids[a], a)
            found.append(Finding(self.ids[b], self.code, self.level,
                                 f"id '{self.ids[b]}' is also the id of record #{first + 1}",
                                 details={"first_index": first}, index=b))
        return found
