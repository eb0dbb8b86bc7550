"""Write an audit run: findings JSONL, summary, duplicate clusters, kept/quarantine files,
manifest and a report.html with charts a non-programmer can read."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from oshie.data.check.base import SEVERITY_RANK, Finding, Record, Severity
from oshie.data.check.pipeline import CheckResult
from oshie.jsonl import JsonlWriter
from oshie.records import PreferencePair
from oshie.report.html import figure_data_uri, new_figure, render
from oshie.runs import Manifest, write_json

SEVERITY_COLOURS = {"error": "#c0392b", "warning": "#e67e22", "info": "#2980b9"}
SEVERITY_JA = {"error": "エラー", "warning": "警告", "info": "情報"}


def invalid_finding(bad: dict[str, Any]) -> dict[str, Any]:
    """The findings.jsonl row of a row that is not a readable record: its file, line and why."""
    return {"record_id": None, "source": bad["source"], "line": bad["line"], "index": None,
            "check": "invalid_record", "severity": "error", "message": bad["error"], "span": None,
            "details": {}, "context": {"before": "", "after": (bad.get("raw") or "")[:160]}}


def invalid_quarantine_row(bad: dict[str, Any]) -> dict[str, Any]:
    """The quarantine entry of a row that is not a readable record (see `load_inputs`)."""
    return {"raw": bad["raw"], "source": bad["source"], "line": bad["line"],
            "reasons": [{"check": "invalid_record", "severity": "error", "message": bad["error"],
                         "span": None}]}


def _jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with JsonlWriter(path) as fh:
        for row in rows:
            fh.write(row)


def record_row(record: Record) -> dict[str, Any]:
    """A record as a row of the native format (messages, or preference for pairs)."""
    from oshie.data.io import record_to_row

    return record_to_row(record, "preference" if isinstance(record, PreferencePair) else "messages")


def _chart_findings(result: CheckResult) -> str | None:
    counts = [(code, s) for code, s in result.stats.items() if s.records_flagged]
    if not counts:
        return None
    counts.sort(key=lambda cs: cs[1].records_flagged)
    fig, ax = new_figure(7.0, 0.45 * len(counts) + 1.2)
    ax.barh([c for c, _ in counts], [s.records_flagged for _, s in counts],
            color=[SEVERITY_COLOURS[s.severity] for _, s in counts])
    ax.set_xlabel("問題のあるレコード数 / records flagged")
    ax.set_title("チェック別の検出数 / findings by check")
    for y, (_, s) in enumerate(counts):
        ax.text(s.records_flagged, y, f" {s.records_flagged}", va="center", fontsize=8)
    return figure_data_uri(fig)


def _chart_lengths(lengths: tuple[Sequence[int], Sequence[int]]) -> str | None:
    if not len(lengths[0]):
        return None
    import numpy as np

    fig, _ = new_figure(8.0, 3.2)
    fig.clf()
    ax1, ax2 = fig.subplots(1, 2)
    for ax, values, title, colour in [
        (ax1, lengths[0], "指示の文字数 / instruction chars", "#34495e"),
        (ax2, lengths[1], "回答の文字数 / answer chars", "#16a085"),
    ]:
        a = np.maximum(np.asarray(values), 1)
        bins = np.unique(np.geomspace(1, max(int(a.max()), 2) + 1, 30).astype(int))
        ax.hist(a, bins=bins, color=colour)
        ax.set_xscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("レコード数 / records")
    fig.tight_layout()
    return figure_data_uri(fig)


def _chart_categories(prof: dict[str, Any]) -> str | None:
    by_source = prof["categories_by_source"]
    cats = list(prof["categories"])
    if not cats:
        return None
    fig, ax = new_figure(7.0, 0.4 * len(cats) + 1.3)
    left = [0] * len(cats)
    palette = ["#2c3e50", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d"]
    for k, (source, counts) in enumerate(by_source.items()):
        values = [counts.get(c, 0) for c in cats]
        ax.barh(cats[::-1], values[::-1], left=left[::-1], label=source, color=palette[k % len(palette)])
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlabel("レコード数 / records")
    ax.set_title("カテゴリの偏り / category balance")
    if len(by_source) > 1:
        ax.legend(fontsize=8)
    return figure_data_uri(fig)


def _chart_clusters(clusters: list[dict[str, Any]]) -> str | None:
    if not clusters:
        return None
    sizes = Counter(c["size"] for c in clusters)
    xs = sorted(sizes)
    fig, ax = new_figure(5.5, 2.8)
    exact = Counter(c["size"] for c in clusters if c["kind"] == "exact")
    ax.bar([str(x) for x in xs], [exact.get(x, 0) for x in xs], color="#c0392b", label="完全一致 / exact")
    ax.bar([str(x) for x in xs], [sizes[x] - exact.get(x, 0) for x in xs],
           bottom=[exact.get(x, 0) for x in xs], color="#e67e22", label="類似 / near")
    ax.set_xlabel("クラスタの大きさ / records per cluster")
    ax.set_ylabel("クラスタ数 / clusters")
    ax.set_title("重複クラスタ / duplicate clusters")
    ax.legend(fontsize=8)
    return figure_data_uri(fig)


def _examples(result: CheckResult, per_check: int = 5) -> dict[str, list[dict[str, Any]]]:
    """Up to `per_check` findings per check, the cue highlighted between its context."""
    out: dict[str, list[dict[str, Any]]] = {}
    for f in result.findings:
        rows = out.setdefault(f.check, [])
        if len(rows) < per_check:
            rows.append(example_row(f))
    return out


def example_row(f: Finding) -> dict[str, Any]:
    """A finding as people read it: where, what, and the cue between its context."""
    ctx = f.context or {}
    return {"id": f.record_id, "source": f.source, "check": f.check, "severity": f.severity,
            "message": f.message, "field": f.span.field if f.span else "", "before": ctx.get("before", ""),
            "text": f.span.text[:160] if f.span else "", "after": ctx.get("after", "")}


def write_check_run(
    result: CheckResult,
    out_dir: str | Path,
    *,
    inputs: Sequence[str | Path] = (),
    config: Any = None,
    drop: Severity | None = None,
    invalid: Sequence[dict[str, Any]] = (),
    reread: Iterable[Record] | None = None,
    title: str = "データ品質監査 / data quality audit",
) -> dict[str, Path]:
    """Write every output of an audit into `out_dir` and return their paths by name.

    `invalid` rows (not readable as records) are counted, listed in findings.jsonl and the
    report and, with `drop`, quarantined with their error: rows in = kept + quarantined.
    With `drop`, the records are read once more from `reread` (the same stream again) unless
    the result kept them."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(out, "data.check", config)
    for i, p in enumerate(inputs):
        manifest.add_input(f"input{i}" if len(inputs) > 1 else "input", p)
    paths: dict[str, Path] = {}

    paths["findings"] = out / "findings.jsonl"
    _jsonl(paths["findings"], [f.to_dict() for f in result.findings] + [invalid_finding(b) for b in invalid])
    paths["clusters"] = out / "duplicate_clusters.jsonl"
    _jsonl(paths["clusters"], result.clusters)

    prof = dict(result.profile)
    lengths = prof.pop("_lengths")
    summary = {**result.summary(), "invalid_rows": len(invalid), "profile": prof}
    if drop is not None:
        records = reread if reread is not None else result.records
        kept, quarantined = write_split(result, records, out, drop, invalid)
        paths["kept"] = out / "kept.jsonl"
        paths["quarantine"] = out / "quarantine.jsonl"
        summary["drop"] = {"severity": drop, "kept": kept, "quarantined": quarantined + len(invalid)}
    paths["summary"] = out / "summary.json"
    write_json(paths["summary"], summary)

    precision_file = out / "precision.json"
    precision = json.loads(precision_file.read_text("utf-8")) if precision_file.is_file() else {}
    worst = result.worst()
    checks = sorted(result.stats.values(), key=lambda s: (-SEVERITY_RANK[s.severity], -s.records_flagged, s.code))
    paths["report"] = render(
        "check_report.html.j2", out / "report.html",
        title=title, summary=summary, checks=checks, severity_ja=SEVERITY_JA,
        colours=SEVERITY_COLOURS, inputs=[str(p) for p in inputs],
        clean=result.n_records - len(worst),
        charts={
            "findings": _chart_findings(result), "lengths": _chart_lengths(lengths),
            "categories": _chart_categories(prof), "clusters": _chart_clusters(result.clusters),
        },
        examples=_examples(result), precision=precision, clusters=result.clusters[:50], contamination=result.contamination[:50],
        invalid=list(invalid)[:50],
        version=_version(),
    )
    paths["manifest"] = manifest.write(outputs={k: p.name for k, p in paths.items()}, summary={
        k: summary[k] for k in ("records", "findings", "flagged_records")
    })
    return paths


def write_split(
    result: CheckResult, records: Iterable[Record], out: Path, drop: Severity, invalid: Sequence[dict[str, Any]]
) -> tuple[int, int]:
    """kept.jsonl and quarantine.jsonl (with each record's reasons), streaming `records` in
    the audited order; returns (kept, quarantined) counts of readable records."""
    limit = SEVERITY_RANK[drop]
    bad: dict[int, list[Finding]] = {}
    for f in result.findings:
        if SEVERITY_RANK[f.severity] >= limit:
            bad.setdefault(f.index, []).append(f)
    kept = 0
    with JsonlWriter(out / "kept.jsonl") as k, JsonlWriter(out / "quarantine.jsonl") as q:
        for i, record in enumerate(records):
            if i in bad:
                row = {"record": record_row(record), "source": result.sources[i],
                       "reasons": [{"check": f.check, "severity": f.severity, "message": f.message,
                                    "span": f.span.to_dict() if f.span else None} for f in bad[i]]}
                q.write(row)
            else:
                k.write(record_row(record))
                kept += 1
        for b in invalid:
            q.write(invalid_quarantine_row(b))
    return kept, len(bad)


def _version() -> str:
    from oshie import __version__

    return __version__
