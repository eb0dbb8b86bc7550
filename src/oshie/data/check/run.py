"""File-level entry points behind `oshie data check` and `oshie data dedup`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from oshie.console import info, warn
from oshie.data.check.base import Record, Severity
from oshie.data.check.config import CheckConfig
from oshie.data.check.duplicates import record_text
from oshie.data.check.pipeline import CheckResult, Pipeline
from oshie.data.check.report import invalid_quarantine_row, record_row, write_check_run
from oshie.data.dedup import DedupConfig, find_duplicates
from oshie.jsonl import JsonlWriter
from oshie.llm.config import LLMConfig
from oshie.runs import Manifest, write_json


def _source_names(paths: Sequence[str | Path]) -> list[str]:
    # file names are short and readable; fall back to the full path when two names clash
    names = [Path(p).name for p in paths]
    return [n if names.count(n) == 1 else str(p) for n, p in zip(names, paths, strict=True)]


def iter_inputs(
    paths: Sequence[str | Path], fmt: str | None = None, invalid: list[dict[str, Any]] | None = None
) -> Iterator[tuple[Record, str]]:
    """(record, file name) for every readable record of `paths`, in order, one at a time.
    Rows that are not valid records (source, line, error, raw text) go to `invalid`: they
    cannot be checked, so they are reported and quarantined instead of stopping the audit."""
    from oshie.data.io import iter_records

    for p, name in zip(paths, _source_names(paths), strict=True):
        for res in iter_records(p, fmt):
            if res.ok and res.record is not None:
                yield res.record, name
            elif invalid is not None:
                invalid.append({"source": name, "line": res.line, "error": res.error.render() if res.error else "",
                                "raw": res.raw})


def load_inputs(
    paths: Sequence[str | Path], fmt: str | None = None
) -> tuple[list[Record], list[str], list[dict[str, Any]]]:
    """Every record of `paths` in memory, each record's file name, and the invalid rows."""
    invalid: list[dict[str, Any]] = []
    records, sources = [], []
    for r, s in iter_inputs(paths, fmt, invalid):
        records.append(r)
        sources.append(s)
    return records, sources, invalid


def audit_files(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    config: CheckConfig | None = None,
    *,
    eval_sets: Sequence[str | Path] = (),
    drop: Severity | None = None,
    fmt: str | None = None,
    judge: LLMConfig | None = None,
) -> tuple[CheckResult, dict[str, Path]]:
    """Check every record of `inputs` (duplicates also across them) and write the run to
    `out_dir`. Records stream through the checks; with `drop` they are read a second time
    to write kept.jsonl and quarantine.jsonl, so memory does not grow with the input."""
    invalid: list[dict[str, Any]] = []
    llm = None
    if judge is not None:
        from oshie.llm.config import build_llm

        # cached like synthesis: every finished verdict is kept, a rerun asks nothing twice
        cache = judge.cache or str(Path(out_dir) / "judge.cache.sqlite")
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        llm = build_llm(judge.model_copy(update={"cache": cache}))
    pipeline = Pipeline.from_config(config, [str(e) for e in eval_sets], judge=llm)
    info(f"checking {', '.join(map(str, inputs))}")
    result = pipeline.run_stream(iter_inputs(inputs, fmt, invalid))
    info(f"checked {result.n_records} records from {len(inputs)} file(s)")
    if invalid:
        warn(f"{len(invalid)} rows are not valid records and were not checked "
             f"(first: {invalid[0]['error'].splitlines()[0]}); they are listed in findings.jsonl")
    cfg = (config or CheckConfig()).model_dump(mode="json")
    cfg["eval_sets"] = [str(e) for e in eval_sets]
    if judge is not None:
        cfg["judge"] = {"backend": judge.backend, "model": judge.model, "base_url": judge.base_url,
                        **next(c.summary() for c in pipeline.checks if c.code == "llm_judge")}  # type: ignore[attr-defined]
    reread = (r for r, _ in iter_inputs(inputs, fmt)) if drop is not None else None
    paths = write_check_run(result, out_dir, inputs=inputs, config=cfg, drop=drop, invalid=invalid, reread=reread)
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
        with JsonlWriter(out / "quarantine.jsonl") as fh:
            for bad in invalid:
                fh.write(invalid_quarantine_row(bad))
        warn(f"{len(invalid)} invalid rows quarantined in {out / 'quarantine.jsonl'} "
             f"(first: {invalid[0]['error'].splitlines()[0]})")
    result = find_duplicates([record_text(r) for r in records], cfg)
    drop = result.duplicates()
    rep_of = {m: c.representative for c in result.clusters for m in c.members}
    with JsonlWriter(out / "kept.jsonl") as fh:
        for i, r in enumerate(records):
            if i not in drop:
                fh.write(record_row(r))
    with JsonlWriter(out / "removed.jsonl") as fh:
        for i in sorted(drop):
            rep = records[rep_of[i]]
            fh.write({"record": record_row(records[i]), "source": sources[i], "duplicate_of": rep.id,
                                 "duplicate_of_source": sources[rep_of[i]]})
    with JsonlWriter(out / "clusters.jsonl") as fh:
        for n, c in enumerate(result.clusters):
            fh.write({
                "cluster": n, "kind": c.kind, "min_similarity": c.min_similarity,
                "representative": records[c.representative].id,
                "members": [{"id": records[m].id, "source": sources[m]} for m in c.members],
            })
    summary = {"records": len(records), "invalid_rows": len(invalid), "kept": len(records) - len(drop), "removed": len(drop),
               "clusters": len(result.clusters),
               "exact_clusters": sum(1 for c in result.clusters if c.kind == "exact"),
               "cross_file_clusters": sum(1 for c in result.clusters if len({sources[m] for m in c.members}) > 1),
               "candidate_pairs": result.n_candidates}
    write_json(out / "summary.json", summary)
    manifest.write(summary=summary)
    return summary
