"""Compose checks into a pipeline, run it over records, collect findings and per-check statistics."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from oshie.console import track
from oshie.data.check.base import (
    SEVERITY_RANK,
    Check,
    DatasetCheck,
    Finding,
    Record,
    Severity,
    iter_checks,
)
from oshie.data.check.config import CheckConfig


@dataclass
class CheckStats:
    """What one check did over a dataset."""

    code: str
    family: str
    severity: Severity
    description: str
    records_flagged: int = 0
    findings: int = 0
    seconds: float = 0.0


@dataclass
class CheckResult:
    """Findings over a list of records, with per-check statistics and dataset-level results."""

    records: list[Record]
    sources: list[str]
    findings: list[Finding]
    stats: dict[str, CheckStats]
    clusters: list[dict[str, Any]] = field(default_factory=list)  # duplicate clusters
    contamination: list[dict[str, Any]] = field(default_factory=list)

    def by_record(self) -> dict[int, list[Finding]]:
        out: dict[int, list[Finding]] = {}
        for f in self.findings:
            out.setdefault(f.index, []).append(f)
        return out

    def worst(self) -> dict[int, Severity]:
        """The most severe finding of each flagged record (by position)."""
        out: dict[int, Severity] = {}
        for f in self.findings:
            if f.index not in out or SEVERITY_RANK[f.severity] > SEVERITY_RANK[out[f.index]]:
                out[f.index] = f.severity
        return out

    def split_indices(self, drop: Severity = "error") -> tuple[list[int], list[tuple[int, list[Finding]]]]:
        """(kept, quarantined) positions: records with a finding at or above `drop` are quarantined,
        with those findings as the reasons. Every record lands in exactly one of the two."""
        limit = SEVERITY_RANK[drop]
        by = self.by_record()
        kept, quarantined = [], []
        for i in range(len(self.records)):
            bad = [f for f in by.get(i, []) if SEVERITY_RANK[f.severity] >= limit]
            if bad:
                quarantined.append((i, bad))
            else:
                kept.append(i)
        return kept, quarantined

    def split(self, drop: Severity = "error") -> tuple[list[Record], list[tuple[Record, list[Finding]]]]:
        """(kept, quarantined) records; see `split_indices`."""
        kept, quarantined = self.split_indices(drop)
        return [self.records[i] for i in kept], [(self.records[i], fs) for i, fs in quarantined]

    def passed(self, drop: Severity = "error") -> list[Record]:
        """Records with no finding at or above `drop` (what an experiment trains on)."""
        return self.split(drop)[0]

    def summary(self) -> dict[str, Any]:
        worst = self.worst()
        return {
            "records": len(self.records),
            "findings": len(self.findings),
            "flagged_records": len(worst),
            "records_by_worst_severity": dict(Counter(worst.values())),
            "findings_by_severity": dict(Counter(f.severity for f in self.findings)),
            "checks": {
                code: {"family": s.family, "severity": s.severity, "records_flagged": s.records_flagged,
                       "findings": s.findings, "seconds": round(s.seconds, 3), "description": s.description}
                for code, s in self.stats.items()
            },
            "duplicate_clusters": len(self.clusters),
            "cross_dataset_clusters": sum(1 for c in self.clusters if c["cross_dataset"]),
            "contaminated_records": len(self.contamination),
        }


class Pipeline:
    """Checks applied in order to every record (HojiChar's Compose, for audits: nothing is
    changed, everything is reported)."""

    def __init__(self, checks: Sequence[Check]) -> None:
        self.checks = list(checks)

    @classmethod
    def from_config(cls, config: CheckConfig | None = None, eval_sets: Sequence[str] = ()) -> Pipeline:
        config = config or CheckConfig()
        config.validate_codes()
        checks: list[Check] = []
        for check_cls in iter_checks():
            if config.only is not None and check_cls.code not in config.only:
                continue
            params = config.params_for(check_cls)
            if check_cls.code == "contamination" and eval_sets:
                params = params.model_copy(update={"eval_sets": [*params.eval_sets, *map(str, eval_sets)]})  # type: ignore[attr-defined]
            if params.enabled:
                checks.append(check_cls(params))
        return cls(checks)

    def run(self, records: Sequence[Record], sources: Sequence[str] | None = None) -> CheckResult:
        records = list(records)
        sources = list(sources) if sources is not None else ["input"] * len(records)
        stats = {c.code: CheckStats(c.code, c.family, c.level, c.description) for c in self.checks}
        findings: list[Finding] = []
        per_record = [c for c in self.checks if not isinstance(c, DatasetCheck)]
        seconds = Counter[str]()
        for i, record in enumerate(track(records, "checking records")):
            for check in per_record:
                t0 = time.perf_counter()
                found = check.apply(record)
                seconds[check.code] += time.perf_counter() - t0
                for f in found:
                    f.index, f.source = i, sources[i]
                findings += found
        result = CheckResult(records, sources, findings, stats)
        for check in self.checks:
            if isinstance(check, DatasetCheck):
                t0 = time.perf_counter()
                found = check.apply_dataset(records, sources)
                seconds[check.code] += time.perf_counter() - t0
                for f in found:
                    f.source = sources[f.index]
                findings += found
                result.clusters = getattr(check, "clusters", result.clusters)
                result.contamination = getattr(check, "hits", result.contamination)
        findings.sort(key=lambda f: (f.index, f.check))
        for code, s in stats.items():
            mine = [f for f in findings if f.check == code]
            s.findings = len(mine)
            s.records_flagged = len({f.index for f in mine})
            s.seconds = seconds[code]
        return result


def check_records(
    records: Sequence[Record],
    config: CheckConfig | None = None,
    *,
    sources: Sequence[str] | None = None,
    eval_sets: Sequence[str] = (),
) -> CheckResult:
    """Audit records with every enabled check; `result.passed("error")` gives the clean ones."""
    return Pipeline.from_config(config, eval_sets).run(records, sources)
