"""Exact and near duplicates within and across the checked datasets (MinHash LSH, `oshie.data.dedup`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oshie.data.check.base import CheckParams, DatasetCheck, Finding, Record, register, text_fields
from oshie.data.dedup import DedupConfig, find_duplicates


def record_text(record: Record) -> str:
    """The text two records are compared on: every message (system prompt included), in order."""
    return "\n".join(f.text for f in text_fields(record))


class DuplicateParams(CheckParams):
    ngram: int = 5  # characters per shingle
    num_perm: int = 96  # MinHash signature length
    bands: int = 24  # LSH bands (num_perm / bands rows each)
    threshold: float = 0.6  # exact 5-gram Jaccard at or above which records are near-duplicates
    # (0.6 because records are short: three edited characters in a 60-character record
    # already take the Jaccard of its 5-grams down to about 0.6)
    ignore_punctuation: bool = True  # "。" vs "．" or a dropped "、" is not a difference
    fold_variants: bool = True  # "下さい" vs "ください" is not a difference either


@register
class Duplicate(DatasetCheck):
    code = "duplicate"
    severity = "warning"
    family = "duplicates"
    description = "The record is an exact or near duplicate of an earlier one (the first of each cluster is kept)."
    Params = DuplicateParams

    def __init__(self, params: CheckParams | None = None) -> None:
        super().__init__(params)
        self.clusters: list[dict[str, Any]] = []

    def apply_dataset(self, records: Sequence[Record], sources: Sequence[str]) -> list[Finding]:
        p: DuplicateParams = self.params  # type: ignore[assignment]
        cfg = DedupConfig(ngram=p.ngram, num_perm=p.num_perm, bands=p.bands, threshold=p.threshold,
                          ignore_punctuation=p.ignore_punctuation, fold_variants=p.fold_variants)
        result = find_duplicates([record_text(r) for r in records], cfg)
        found = []
        self.clusters = []
        for n, c in enumerate(result.clusters):
            rep = records[c.representative]
            cross = len({sources[m] for m in c.members}) > 1
            self.clusters.append({
                "cluster": n, "kind": c.kind, "size": len(c.members), "cross_dataset": cross,
                "min_similarity": c.min_similarity,
                "representative": {"index": c.representative, "id": rep.id, "source": sources[c.representative]},
                "members": [{"index": m, "id": records[m].id, "source": sources[m]} for m in c.members],
                "preview": record_text(rep)[:120],
            })
            for m in c.members:
                if m == c.representative:
                    continue
                where = f" in {sources[c.representative]}" if sources[m] != sources[c.representative] else ""
                what = "exact duplicate" if c.kind == "exact" else "near duplicate"
                f = self.finding(
                    records[m], f"{what} of record '{rep.id}'{where} (cluster {n}, {len(c.members)} records)",
                    cluster=n, representative=rep.id, kind=c.kind, cross_dataset=cross,
                )
                f.index = m
                found.append(f)
        return found
