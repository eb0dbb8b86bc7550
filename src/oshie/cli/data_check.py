"""`oshie data check` and `oshie data dedup`: the quality audit and duplicate removal.

Plain functions, added to the `oshie data` group by `register(app)`; the work is in
`oshie.data.check` and `oshie.data.dedup`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from oshie.console import out
from oshie.errors import UsageError
from oshie.paths import guard_outputs

SEVERITIES = ("error", "warning", "info")
CHECK_OUTPUTS = ("findings.jsonl", "duplicate_clusters.jsonl", "kept.jsonl", "quarantine.jsonl",
                 "summary.json", "report.html", "manifest.json", "review.xlsx", "judge.cache.sqlite")
DEDUP_OUTPUTS = ("kept.jsonl", "removed.jsonl", "clusters.jsonl", "quarantine.jsonl", "summary.json",
                 "manifest.json")


def check(
    inputs: Annotated[list[Path] | None, typer.Argument(help="Instruction data files (any supported type and format); duplicates are also found across them.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory: findings.jsonl, summary.json, report.html, manifest.json ...")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML check config (per-check options, enabled: false to switch one off).")] = None,
    eval_set: Annotated[list[Path] | None, typer.Option("--eval-set", "-e", help="Evaluation file to test for contamination (JGLUE JSON lines, SQuAD JSON, ELYZA-style CSV, any record file); repeat for several.")] = None,
    drop: Annotated[str | None, typer.Option("--drop", help="Write kept.jsonl and quarantine.jsonl, quarantining records with a finding at or above this severity: error, warning or info.")] = None,
    overrides: Annotated[list[str] | None, typer.Option("--set", help="Override a config value, e.g. --set checks.duplicate.threshold=0.8 or --set checks.over_cautious.enabled=false.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="Input format (ichikara, alpaca, sharegpt, messages, prompt_completion, preference); detected if left out.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    judge: Annotated[Path | None, typer.Option("--judge", help="Also ask an LLM judge (an LLM config YAML: backend, base_url, model ...) about each record; verdicts are cached in the run directory, so a rerun asks nothing twice.")] = None,
    sample: Annotated[int | None, typer.Option("--sample", help="Write review.xlsx with up to N random findings per check and a column to mark each right (正) or wrong (誤).")] = None,
    score_review: Annotated[Path | None, typer.Option("--score-review", help="Turn a marked review.xlsx into per-check precision (precision.json beside it); no audit is run.")] = None,
) -> None:
    """Audit instruction data: find bad records and say why (report.html shows it with charts)."""
    from oshie.data.check.config import load_check_config
    from oshie.data.check.run import audit_files

    if score_review is not None:
        _print_scores(score_review)
        return
    if not inputs or out_dir is None:
        raise UsageError("give the data files to check and --out DIR", hint="oshie data check data.jsonl --out runs/check")
    if drop is not None and drop not in SEVERITIES:
        raise UsageError(f"--drop must be one of {', '.join(SEVERITIES)}, not {drop!r}", field="--drop")
    if sample is not None and sample < 1:
        raise UsageError("--sample must be a positive number of findings per check", field="--sample")
    guard_outputs([out_dir, *(out_dir / name for name in CHECK_OUTPUTS)], [*inputs, *(eval_set or []), config, judge])
    cfg = load_check_config(config, overrides)
    judge_cfg = None
    if judge is not None:
        from oshie.llm.config import load_llm_config

        judge_cfg = load_llm_config(judge)
    result, paths = audit_files(inputs, out_dir, cfg, eval_sets=eval_set or [], drop=drop, fmt=fmt,  # type: ignore[arg-type]
                                judge=judge_cfg)
    if sample is not None:
        from oshie.data.check.review import write_review_sheet

        n = write_review_sheet(result.findings, out_dir / "review.xlsx", sample)
        out.print(f"review sheet: {escape(str(out_dir / 'review.xlsx'))} ({n} findings to mark)")
    summary = json.loads(paths["summary"].read_text("utf-8"))
    if as_json:
        out.print_json(data={k: v for k, v in summary.items() if k != "profile"})
        return
    out.print(_check_table(summary))
    line = f"{summary['records']} records: {summary['flagged_records']} flagged, {summary['findings']} findings"
    if summary.get("invalid_rows"):
        line += f"; {summary['invalid_rows']} invalid rows not checked"
    if "drop" in summary:
        d = summary["drop"]
        line += f"; kept {d['kept']}, quarantined {d['quarantined']} (drop >= {d['severity']})"
    out.print(line)
    out.print(f"report: {escape(str(paths['report']))}")


def _print_scores(sheet: Path) -> None:
    from oshie.data.check.review import score_review

    scores = score_review(sheet)
    t = Table(title="precision by check (from the review sheet)", title_justify="left")
    for col in ("check", "right", "wrong", "unmarked", "precision", "95% interval"):
        t.add_column(col, justify="left" if col == "check" else "right")
    for code, s in scores.items():
        prec = "-" if s["precision"] is None else f"{s['precision']:.2f}"
        t.add_row(code, str(s["right"]), str(s["wrong"]), str(s["unmarked"]), prec, f"{s['ci95'][0]:.2f}-{s['ci95'][1]:.2f}")
    out.print(t)
    out.print(f"written: {escape(str(sheet.parent / 'precision.json'))}")


def _check_table(summary: dict[str, Any]) -> Table:
    t = Table(title="findings by check", title_justify="left")
    t.add_column("check", no_wrap=True)
    t.add_column("severity")
    t.add_column("records", justify="right")
    t.add_column("findings", justify="right")
    rows = sorted(summary["checks"].items(), key=lambda kv: (-kv[1]["records_flagged"], kv[0]))
    for code, s in rows:
        if s["findings"]:
            t.add_row(code, s["severity"], str(s["records_flagged"]), str(s["findings"]))
    return t


def checks() -> None:
    """List every check: code, default severity, what it looks for and its options."""
    from oshie.data.check import iter_checks

    t = Table(title="checks (configure under `checks.<code>` in a YAML config)", title_justify="left")
    t.add_column("code", no_wrap=True)
    t.add_column("severity")
    t.add_column("what it looks for")
    t.add_column("options")
    for c in iter_checks():
        opts = [f"{k}={v.get_default(call_default_factory=True)!r}"
                for k, v in c.Params.model_fields.items() if k not in ("enabled", "severity")]
        t.add_row(c.code, c.severity, escape(c.description), escape(", ".join(opts)))
    out.print(t)


def dedup(
    inputs: Annotated[list[Path], typer.Argument(help="Instruction data files; duplicates are found within and across them.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output directory: kept.jsonl, removed.jsonl, clusters.jsonl, summary.json.")],
    threshold: Annotated[float, typer.Option("--threshold", "-t", help="Character n-gram Jaccard at or above which two records are near-duplicates.")] = 0.6,
    ngram: Annotated[int, typer.Option("--ngram", help="Characters per shingle.")] = 5,
    num_perm: Annotated[int, typer.Option("--num-perm", help="MinHash signature length.")] = 96,
    bands: Annotated[int, typer.Option("--bands", help="LSH bands (num-perm / bands rows each); more bands = higher recall, more candidates.")] = 24,
    keep_punctuation: Annotated[bool, typer.Option("--keep-punctuation", help="Count punctuation differences (by default 。 vs ． etc. are ignored).")] = False,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="Input format; detected if left out.")] = None,
) -> None:
    """Remove exact and near duplicates (MinHash LSH, verified on exact Jaccard); the first of each cluster is kept."""
    from pydantic import ValidationError

    from oshie.data.check.run import dedup_files
    from oshie.data.dedup import DedupConfig

    try:
        cfg = DedupConfig(threshold=threshold, ngram=ngram, num_perm=num_perm, bands=bands,
                          ignore_punctuation=not keep_punctuation, fold_variants=True)
    except ValidationError as exc:
        raise UsageError(exc.errors()[0]["msg"], hint="check --threshold, --num-perm and --bands") from exc
    guard_outputs([out_dir, *(out_dir / name for name in DEDUP_OUTPUTS)], inputs)
    out_dir.mkdir(parents=True, exist_ok=True)
    s = dedup_files(inputs, out_dir, cfg, fmt=fmt)
    out.print(f"{s['records']} records: kept {s['kept']}, removed {s['removed']} "
              f"({s['clusters']} clusters, {s['exact_clusters']} exact, {s['cross_file_clusters']} across files)")
    out.print(f"kept: {escape(str(out_dir / 'kept.jsonl'))}")


def register(app: typer.Typer) -> None:
    """Add `check`, `checks` and `dedup` to the `oshie data` group."""
    app.command("check")(check)
    app.command("checks")(checks)
    app.command("dedup")(dedup)
