"""Contamination check: training records that contain evaluation items (see `oshie.data.contamination`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from oshie.data.check.base import (
    CheckParams,
    DatasetCheck,
    Finding,
    Record,
    add_context,
    register,
    text_fields,
)
from oshie.data.contamination import ContaminationConfig, build_index


class ContaminationParams(CheckParams):
    eval_sets: list[str] = Field(default_factory=list)  # evaluation files (also given with --eval-set); none = check off
    ngram: int = 10
    threshold: float = 0.5
    min_chars: int = 10


@register
class Contamination(DatasetCheck[ContaminationParams], code="contamination", severity="error", family="contamination"):
    """A record contains (most of) an item of an evaluation set: training on it would inflate scores."""

    def __init__(self, params: ContaminationParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        self.hits: list[dict[str, Any]] = []
        self.found: list[Finding] = []
        self.index = None
        if p.eval_sets:
            self.index = build_index(p.eval_sets, ContaminationConfig(ngram=p.ngram, threshold=p.threshold,
                                                                      min_chars=p.min_chars))

    def observe(self, record: Record, index: int, source: str) -> None:
        if self.index is None:
            return
        for f in text_fields(record):
            hits = self.index.query(f.text)
            if not hits:
                continue
            h = hits[0]
            seg = h.segment
            finding = self.finding(
                record,
                f"contains {h.containment:.0%} of {seg.source} item {seg.item} ({seg.field})",
                self.span(f, h.start, h.end),
                eval_set=seg.source, item=seg.item, field=seg.field, containment=h.containment,
            )
            finding.index = index
            add_context(finding, record)
            self.found.append(finding)
            self.hits.append({"index": index, "id": record.id, "source": source, "eval_set": seg.source,
                              "item": seg.item, "field": seg.field, "containment": h.containment})
            break  # one finding per record: the strongest overlap

    def finish(self) -> list[Finding]:
        return self.found
