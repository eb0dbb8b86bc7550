"""Compose checks into a pipeline, stream records through it, collect findings and statistics.

Memory is bounded: records are looked at once and let go (unless the caller keeps them);
what stays is the findings (each with a little context around its span, for the report and
the review sheet), the per-check statistics, the length/category profile (two small ints
per record) and the dataset checks' compact indexes.
"""

from __future__ import annotations

import time
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from oshie.console import track
from oshie.data.check.base import (
    SEVERITY_RANK,
    BatchCheck,
    Check,
    DatasetCheck,
    Finding,
    Record,
    Severity,
    add_context,
    iter_checks,
)
from oshie.data.check.config import CheckConfig
from oshie.data.check.profile import ProfileBuilder
from oshie.llm.base import LLM

BATCH = 256  # records per batch for checks that call a model


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
    """Findings over a stream of records, with per-check statistics and dataset-level results.

    `records` is the list of checked records when the caller asked to keep them
    (`check_records` does), else empty; everything else works without them."""

    n_records: int
    sources: list[str]
    findings: list[Finding]
    stats: dict[str, CheckStats]
    profile: dict[str, Any] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
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
        for i in range(self.n_records):
            bad = [f for f in by.get(i, []) if SEVERITY_RANK[f.severity] >= limit]
            if bad:
                quarantined.append((i, bad))
            else:
                kept.append(i)
        return kept, quarantined

    def split(self, drop: Severity = "error") -> tuple[list[Record], list[tuple[Record, list[Finding]]]]:
        """(kept, quarantined) records (needs the kept records); see `split_indices`."""
        kept, quarantined = self.split_indices(drop)
        return [self.records[i] for i in kept], [(self.records[i], fs) for i, fs in quarantined]

    def passed(self, drop: Severity = "error") -> list[Record]:
        """Records with no finding at or above `drop` (what an experiment trains on)."""
        return self.split(drop)[0]

    def summary(self) -> dict[str, Any]:
        worst = self.worst()
        return {
            "records": self.n_records,
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
    def from_config(
        cls, config: CheckConfig | None = None, eval_sets: Sequence[str] = (), judge: LLM | None = None
    ) -> Pipeline:
        """The enabled checks of `config`; giving a `judge` LLM turns the llm_judge check on."""
        config = config or CheckConfig()
        config.validate_codes()
        checks: list[Check] = []
        for check_cls in iter_checks():
            if config.only is not None and check_cls.code not in config.only:
                continue
            params = config.params_for(check_cls)
            if check_cls.code == "contamination" and eval_sets:
                params = params.model_copy(update={"eval_sets": [*params.eval_sets, *map(str, eval_sets)]})  # type: ignore[attr-defined]
            if check_cls.code == "llm_judge":
                if judge is not None:
                    checks.append(check_cls(params.model_copy(update={"enabled": True}), llm=judge))  # type: ignore[call-arg]
            elif params.enabled:
                checks.append(check_cls(params))
        return cls(checks)

    def run(
        self,
        records: Iterable[Record],
        sources: Iterable[str] | None = None,
        *,
        keep_records: bool = False,
        total: int | None = None,
    ) -> CheckResult:
        """Check `records` (with the name of the file each came from)."""
        pairs = zip(records, repeat("input")) if sources is None else zip(records, sources, strict=True)
        return self.run_stream(pairs, keep_records=keep_records, total=total)

    def run_stream(
        self, pairs: Iterable[tuple[Record, str]], *, keep_records: bool = False, total: int | None = None
    ) -> CheckResult:
        """Stream (record, source name) pairs through every check, holding no record longer
        than its batch (unless `keep_records`)."""
        stats = {c.code: CheckStats(c.code, c.family, c.level, c.description) for c in self.checks}
        per_record = [c for c in self.checks if not isinstance(c, DatasetCheck | BatchCheck)]
        batched = [c for c in self.checks if isinstance(c, BatchCheck)]
        dataset = [c for c in self.checks if isinstance(c, DatasetCheck)]
        findings: list[Finding] = []
        names: dict[str, int] = {}  # distinct source names; `source_of` holds their numbers
        source_of = array("H")
        kept: list[Record] = []
        profile = ProfileBuilder()
        pending: list[tuple[int, Record]] = []
        name_of: list[str] = []
        n = 0

        def flush() -> None:
            for check in batched:
                t0 = time.perf_counter()
                results = check.apply_batch([r for _, r in pending])
                check.stats.seconds += time.perf_counter() - t0
                for (i, rec), found in zip(pending, results, strict=True):
                    for f in found:
                        f.index, f.source = i, name_of[source_of[i]]
                        add_context(f, rec)
                    findings.extend(found)
            pending.clear()

        for i, (record, source) in enumerate(track(pairs, "checking records", total=total)):
            if source not in names:
                names[source] = len(names)
                name_of.append(source)
            source_of.append(names[source])
            for check in per_record:
                found = check(record)
                for f in found:
                    f.index, f.source = i, source
                    add_context(f, record)
                findings += found
            for check in dataset:
                t0 = time.perf_counter()
                check.observe(record, i, source)
                check.stats.seconds += time.perf_counter() - t0
            if batched:
                pending.append((i, record))
                if len(pending) >= BATCH:
                    flush()
            profile.add(record, source)
            if keep_records:
                kept.append(record)
            n = i + 1
        if pending:
            flush()
        all_sources = [name_of[k] for k in source_of]
        result = CheckResult(n, all_sources, findings, stats, records=kept)
        for check in dataset:
            t0 = time.perf_counter()
            found = check.finish()
            check.stats.seconds += time.perf_counter() - t0
            for f in found:
                f.source = all_sources[f.index]
            findings += found
            result.clusters = getattr(check, "clusters", result.clusters)
            result.contamination = getattr(check, "hits", result.contamination)
        findings.sort(key=lambda f: (f.index, f.check))
        flagged: dict[str, set[int]] = {}
        for f in findings:
            stats[f.check].findings += 1
            flagged.setdefault(f.check, set()).add(f.index)
        for check in self.checks:
            s = stats[check.code]
            s.records_flagged = len(flagged.get(check.code, ()))
            s.seconds = check.stats.seconds
        result.profile = profile.result()
        return result


def check_records(
    records: Sequence[Record],
    config: CheckConfig | None = None,
    *,
    sources: Sequence[str] | None = None,
    eval_sets: Sequence[str] = (),
) -> CheckResult:
    """Audit records with every enabled check; `result.passed("error")` gives the clean ones."""
    return Pipeline.from_config(config, eval_sets).run(records, sources, keep_records=True, total=len(records))
