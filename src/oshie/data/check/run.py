"""File-level entry points behind `oshie data check` and `oshie data dedup`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oshie.console import info, warn
from oshie.data.check.base import Record, Severity
from oshie.data.check.config import CheckConfig
from oshie.data.check.duplicates import record_text
from oshie.data.check.pipeline import CheckResult, check_records
from oshie.data.check.report import invalid_quarantine_row, record_row, write_check_run
from oshie.data.dedup import DedupConfig, find_duplicates
from oshie.runs import Manifest, write_json


def _source_names(paths: Sequence[str | Path]) -> list[str]:
    # file names are short and readable; fall back to the full path when two names clash
    names = [Path(p).name for p in paths]
    return [n if names.count(n) == 1 else str(p) for n, p in zip(names, paths, strict=True)]


def load_inputs(
    paths: Sequence[str | Path], fmt: str | None = None
) -> tuple[list[Record], list[str], list[dict[str, Any]]]:
    """Records of `paths` (any supported file type and format), each record's file name, and
    the rows that are not valid records (source, line, error, raw text): those cannot be
    checked, so they are reported and quarantined instead of stopping the audit."""
    from oshie.data.io import iter_records

    records: list[Record] = []
    sources: list[str] = []
    invalid: list[dict[str, Any]] = []
    for p, name in zip(paths, _source_names(paths), strict=True):
        for res in iter_records(p, fmt):
            if res.ok and res.record is not None:
                records.append(res.record)
                sources.append(name)
            else:
                invalid.append({"source": name, "line": res.line, "error": res.error.render() if res.error else "",
                                "raw": res.raw})
    return records, sources, invalid


def audit_files(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    config: CheckConfig | None = None,
    *,
    eval_sets: Sequence[str | Path] = (),
    drop: Severity | None = None,
    fmt: str | None = None,
) -> tuple[CheckResult, dict[str, Path]]:
    """Check every record of `inputs` (duplicates also across them) and write the run to `out_dir`."""
    records, sources, invalid = load_inputs(inputs, fmt)
    info(f"checking {len(records)} records from {len(inputs)} file(s)")
    if invalid:
        warn(f"{len(invalid)} rows are not valid records and were not checked "
             f"(first: {invalid[0]['error'].splitlines()[0]}); they are listed as invalid in the outputs")
    result = check_records(records, config, sources=sources, eval_sets=[str(e) for e in eval_sets])
    cfg = (config or CheckConfig()).model_dump(mode="json")
    cfg["eval_sets"] = [str(e) for e in eval_sets]
    paths = write_check_run(result, out_dir, inputs=inputs, config=cfg, drop=drop, invalid=invalid)
    return result, paths


def dedup_files(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    config: DedupConfig | None = None,
    *,
    fmt: str | None = None,
) -> dict[str, Any]:
    """Drop exact and near duplicates from `inputs` (first of each cluster kept) into `out_dir`:
    kept.jsonl, removed.jsonl (with the record each duplicates), clusters.jsonl, manifest, and
    quarantine.jsonl for rows that are not readable records."""
    cfg = config or DedupConfig()
    out = Path(out_dir)
    manifest = Manifest(out, "data.dedup", cfg)
    for i, p in enumerate(inputs):
        manifest.add_input(f"input{i}", p)
    records, sources, invalid = load_inputs(inputs, fmt)
    if invalid:
        # unreadable rows cannot be compared, but they are not lost: rows in = kept + removed + quarantined
        with open(out / "quarantine.jsonl", "w", encoding="utf-8") as fh:
            for bad in invalid:
                fh.write(json.dumps(invalid_quarantine_row(bad), ensure_ascii=False) + "\n")
        warn(f"{len(invalid)} invalid rows quarantined in {out / 'quarantine.jsonl'} "
             f"(first: {invalid[0]['error'].splitlines()[0]})")
    result = find_duplicates([record_text(r) for r in records], cfg)
    drop = result.duplicates()
    rep_of = {m: c.representative for c in result.clusters for m in c.members}
    with open(out / "kept.jsonl", "w", encoding="utf-8") as fh:
        for i, r in enumerate(records):
            if i not in drop:
                fh.write(json.dumps(record_row(r), ensure_ascii=False) + "\n")
    with open(out / "removed.jsonl", "w", encoding="utf-8") as fh:
        for i in sorted(drop):
            rep = records[rep_of[i]]
            fh.write(json.dumps({"record": record_row(records[i]), "source": sources[i], "duplicate_of": rep.id,
                                 "duplicate_of_source": sources[rep_of[i]]}, ensure_ascii=False) + "\n")
    with open(out / "clusters.jsonl", "w", encoding="utf-8") as fh:
        for n, c in enumerate(result.clusters):
            fh.write(json.dumps({
                "cluster": n, "kind": c.kind, "min_similarity": c.min_similarity,
                "representative": records[c.representative].id,
                "members": [{"id": records[m].id, "source": sources[m]} for m in c.members],
            }, ensure_ascii=False) + "\n")
    summary = {"records": len(records), "invalid_rows": len(invalid), "kept": len(records) - len(drop), "removed": len(drop),
               "clusters": len(result.clusters),
               "exact_clusters": sum(1 for c in result.clusters if c.kind == "exact"),
               "cross_file_clusters": sum(1 for c in result.clusters if len({sources[m] for m in c.members}) > 1),
               "candidate_pairs": result.n_candidates}
    write_json(out / "summary.json", summary)
    manifest.write(summary=summary)
    return summary
