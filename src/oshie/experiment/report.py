"""The comparison: `results.csv` (one row per model x variant, one column group per metric),
`results.json`, and `report.html` with the table (CIs, delta vs the untuned base), bar charts
with error bars, training-loss curves, the pairwise win-rate matrix and links to per-item outputs.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from oshie import __version__
from oshie.eval.metrics.paired import PairedResult
from oshie.eval.response_audit import ANY
from oshie.eval.response_audit import TASK as AUDIT_TASK
from oshie.experiment import evidence
from oshie.experiment.cache import StageOutput
from oshie.experiment.compare import Comparison, Items, against_base, compare_rows, row_items
from oshie.experiment.config import ExperimentConfig
from oshie.experiment.corpus_stages import mixture_summary
from oshie.experiment.plan import BASE_ROW, Plan
from oshie.report.html import figure_data_uri, new_figure, render
from oshie.runs import write_json

JUDGE_METRIC = "judge/score"


@dataclass
class ResultRow:
    model: str
    variant: str
    metrics: dict[str, dict[str, Any]]  # "task/metric" -> {"value", "ci95", "n"}
    delta: dict[str, float | None] = field(default_factory=dict)
    # metric -> paired comparison with the untuned base (CI, Holm-adjusted p, verdict)
    paired: dict[str, PairedResult] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, relative href)
    train: dict[str, Any] = field(default_factory=dict)  # records, final loss, steps

    @property
    def label(self) -> str:
        return f"{self.model}/{self.variant}"


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _rel(path: Path, out: Path) -> str:
    """A link from the report to a file of the run (through a stage's store link, if any)."""
    return Path(os.path.relpath(path.absolute(), out.absolute())).as_posix()


@dataclass
class Collected:
    rows: list[ResultRow]
    names: list[str]  # the table's metric columns
    audit_names: list[str]  # response-audit defect rates (their own section)
    comparisons: list[Comparison]
    items: dict[str, Items]  # eval stage id -> task -> per-item records


def collect_rows(
    config: ExperimentConfig, plan: Plan, finished: dict[str, StageOutput], out: Path
) -> Collected:
    rows: list[ResultRow] = []
    for r in plan.rows:
        ev = finished[r.eval_stage]
        metrics: dict[str, dict[str, Any]] = {}
        for task, ms in _read_json(ev.path("results")).items():
            for name, entry in ms.items():
                metrics[f"{task}/{name}"] = entry
        links = [
            (task, _rel(ev.dir / rel, out)) for task, rel in ev.outputs.get("items", {}).items()
        ]
        links.append(("eval report", _rel(ev.path("report"), out)))  # per-task details
        judge = finished.get(f"judge/{r.model}/{r.variant}")
        if judge is not None:
            metrics[JUDGE_METRIC] = _read_json(judge.path("results"))["judge"]["score"]
            links.append(("judge answers", _rel(judge.path("answers"), out)))
        train: dict[str, Any] = {}
        if r.train_stage:
            t = finished[r.train_stage]
            data = finished[f"data/{r.variant}"]
            train = {
                "records": data.outputs.get("records"),
                "final_loss": t.outputs.get("final_loss"),
                "steps": t.outputs.get("global_step"),
            }
            links.append(("train data", _rel(data.path("train"), out)))
        rows.append(ResultRow(r.model, r.variant, metrics, links=links, train=train))
    all_names = sorted({k for row in rows for k in row.metrics})
    audit_names = sorted(
        (n for n in all_names if n.startswith(f"{AUDIT_TASK}/")),
        key=lambda n: (n != f"{AUDIT_TASK}/{ANY}_rate", n),
    )
    names = [n for n in all_names if n not in audit_names]
    if config.eval.metrics:
        wanted = list(config.eval.metrics)
        if JUDGE_METRIC in names and JUDGE_METRIC not in wanted:  # the judge column always shows
            wanted.append(JUDGE_METRIC)
        names = [n for n in wanted if n in names]
    elif JUDGE_METRIC in names:
        names = [JUDGE_METRIC] + [n for n in names if n != JUDGE_METRIC]
    base = {row.model: row for row in rows if row.variant == BASE_ROW}
    for row in rows:
        ref = base.get(row.model)
        for n in [*names, *audit_names]:
            if (ref is None or row is ref or n not in row.metrics or n not in ref.metrics
                    or row.metrics[n]["value"] is None or ref.metrics[n]["value"] is None):
                row.delta[n] = None
            else:
                row.delta[n] = row.metrics[n]["value"] - ref.metrics[n]["value"]
    items = {r.eval_stage: row_items(finished[r.eval_stage]) for r in plan.rows}
    comparisons = compare_rows(plan.rows, items, [*names, *audit_names], seed=config.seed)
    vs_base = against_base(comparisons)
    for row in rows:
        for n in [*names, *audit_names]:
            if (key := (row.model, row.variant, n)) in vs_base:
                row.paired[n] = vs_base[key]
    return Collected(rows, names, audit_names, comparisons, items)


def write_csv(path: Path, rows: list[ResultRow], names: list[str]) -> Path:
    header = ["model", "variant", "train_records", "final_train_loss"]
    for n in names:
        header += [n, f"{n} ci95_lo", f"{n} ci95_hi", f"{n} delta_vs_base"]
        header += [f"{n} delta_ci95_lo", f"{n} delta_ci95_hi", f"{n} delta_p_holm"]
        header += [f"{n} delta_verdict"]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            line: list[Any] = [
                row.model,
                row.variant,
                row.train.get("records", ""),
                _fmt(row.train.get("final_loss")),
            ]
            for n in names:
                m = row.metrics.get(n)
                if m is None:
                    line += [""] * 8
                    continue
                lo, hi = m.get("ci95") or [None, None]
                line += [_fmt(m["value"]), _fmt(lo), _fmt(hi), _fmt(row.delta.get(n))]
                pr = row.paired.get(n)
                if pr is None:
                    line += [""] * 4
                else:
                    line += [_fmt(pr.ci95[0]), _fmt(pr.ci95[1]), f"{pr.p_holm:.4g}", pr.verdict]
            w.writerow(line)
    return path


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{float(v):.4f}"


# --- plots -------------------------------------------------------------------------------


def metric_bars(
    rows: list[ResultRow], names: list[str], baselines: dict[str, dict[str, Any]] | None = None
) -> str | None:
    """One panel per metric: a bar per row, whiskers at the 95% CI; accuracy panels carry
    the chance and majority-class lines."""
    if not names:
        return None
    cols = min(3, len(names))
    nrows = math.ceil(len(names) / cols)
    fig, _ = new_figure(4.2 * cols, 2.9 * nrows)
    fig.clf()
    colors = ["#888888", "#c33", "#2a6", "#36c", "#c80", "#939", "#099"]
    for i, n in enumerate(names):
        ax = fig.add_subplot(nrows, cols, i + 1)
        labels, values, err_lo, err_hi = [], [], [], []
        for row in rows:
            m = row.metrics.get(n)
            if m is None or m["value"] is None:  # null: nothing was measured
                continue
            v = m["value"]
            lo, hi = m.get("ci95") or [v, v]
            lo = v if lo is None or math.isnan(lo) else lo
            hi = v if hi is None or math.isnan(hi) else hi
            labels.append(row.label)
            values.append(v)
            err_lo.append(max(0.0, v - lo))
            err_hi.append(max(0.0, hi - v))
        ax.bar(
            range(len(values)),
            values,
            yerr=[err_lo, err_hi],
            capsize=4,
            color=[colors[k % len(colors)] for k in range(len(values))],
        )
        line = (baselines or {}).get(n)
        if line:
            ax.axhline(line["chance"], color="#555", linestyle="--", linewidth=1, label="chance")
            ax.axhline(line["majority"], color="#b60", linestyle=":", linewidth=1.4,
                       label="majority class")
            ax.legend(fontsize=7, loc="upper right")
        ax.set_xticks(range(len(values)), labels, rotation=20, ha="right", fontsize=8)
        ax.set_title(n, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return figure_data_uri(fig)


def _losses(path: Path) -> tuple[list[int], list[float]]:
    steps, losses = [], []
    if not path.is_file():
        return steps, losses
    for line in path.read_text("utf-8").splitlines():
        e = json.loads(line)
        if "loss" in e and "step" in e:
            steps.append(int(e["step"]))
            losses.append(float(e["loss"]))
    return steps, losses


def loss_curves(curves: dict[str, tuple[list[int], list[float]]]) -> str | None:
    curves = {k: v for k, v in curves.items() if v[0]}
    if not curves:
        return None
    fig, ax = new_figure(6.4, 3.4)
    for label, (steps, losses) in curves.items():
        ax.plot(steps, losses, label=label, linewidth=1.4)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure_data_uri(fig)


def winrate_matrix(results: dict[str, Any], systems: list[str]) -> list[list[Any]]:
    """matrix[i][j] = win rate of systems[i] against systems[j] (ties excluded from wins)."""
    m: list[list[Any]] = [[None] * len(systems) for _ in systems]
    for i, x in enumerate(systems):
        for j, y in enumerate(systems):
            if (entry := results.get(f"{x}_vs_{y}")) is not None:
                m[i][j] = entry["win_rate"]["value"]
                m[j][i] = entry["loss_rate"]["value"]
    return m


class _HasName(Protocol):
    name: str


Named = TypeVar("Named", bound=_HasName)


def _finished_for(
    finished: dict[str, StageOutput], kind: str, owners: Iterable[Named]
) -> Iterator[tuple[Named, StageOutput]]:
    """(owner, its `kind/<owner name>` stage) for each owner whose stage has finished."""
    for owner in owners:
        stage = finished.get(f"{kind}/{owner.name}")
        if stage is not None:
            yield owner, stage


def _data_audits(
    config: ExperimentConfig, finished: dict[str, StageOutput], out: Path
) -> list[dict[str, Any]]:
    """The training-data audit of each variant, with the counts after its filter."""
    audits = []
    for v, a in _finished_for(finished, "audit", config.variants):
        s = _read_json(a.path("summary"))
        data = finished[f"data/{v.name}"].outputs
        filtered = bool(v.filter and v.filter.passed_audit)
        audits.append(
            {
                "variant": v.name,
                "records": s["records"],
                "flagged": s["flagged_records"],
                "findings": s["findings"],
                "by_check": s["by_check"],
                "top": list(s["by_check"].items())[:6],
                "kept": data.get("records") if filtered else None,
                "dropped": data.get("dropped_by_audit") if filtered else None,
                "link": _rel(a.path("findings"), out),
            }
        )
    return audits


def write_outputs(
    config: ExperimentConfig, plan: Plan, finished: dict[str, StageOutput], out: Path
) -> tuple[dict[str, Any], Path, Path]:
    c = collect_rows(config, plan, finished, out)
    rows, names = c.rows, c.names
    csv_path = write_csv(out / "results.csv", rows, [*names, *c.audit_names])
    curves = {}
    for sid, o in finished.items():
        if o.outputs.get("log_history") and sid.split("/")[0] in ("pretrain", "sft", "dpo"):
            curves[sid] = _losses(o.path("log_history"))
    pairwise = []
    for m, pw in _finished_for(finished, "pairwise", config.base_models):
        res = _read_json(pw.path("results"))
        systems = list(pw.outputs["systems"])
        pairwise.append(
            {
                "model": m.name,
                "systems": systems,
                "matrix": winrate_matrix(res, systems),
                "link": _rel(pw.path("pairs"), out),
            }
        )
    audits = _data_audits(config, finished, out)
    baselines = evidence.metric_baselines(names, c.items)
    warnings = evidence.one_answer_warnings(plan.rows, c.items)
    notes = evidence.mechanism_notes(c.comparisons, {a["variant"]: a for a in audits})
    mixtures = mixture_summary(plan, finished, rows, names)  # bases built from corpus mixtures
    results = {
        "name": config.name,
        "metrics": names,
        "response_audit_metrics": c.audit_names,
        "rows": [
            {
                "model": r.model,
                "variant": r.variant,
                "train": r.train,
                "metrics": {n: r.metrics[n] for n in [*names, *c.audit_names] if n in r.metrics},
                "delta_vs_base": {n: r.delta.get(n) for n in [*names, *c.audit_names]},
            }
            for r in rows
        ],
        "comparisons": [x.to_dict() for x in c.comparisons],
        "baselines": baselines,
        "one_answer_warnings": warnings,
        "mechanism": notes,
        "pairwise": pairwise,
        "audit": audits,
        "mixtures": mixtures,
    }
    write_json(out / "results.json", results)
    report = render(
        "experiment_report.html.j2",
        out / "report.html",
        title=f"oshie experiment: {config.name}",
        version=__version__,
        config=config,
        rows=rows,
        names=names,
        audit_names=c.audit_names,
        bars=metric_bars(rows, names, baselines),
        losses=loss_curves(curves),
        pairwise=pairwise,
        audits=audits,
        mixtures=mixtures,
        comparisons=c.comparisons,
        baselines=baselines,
        warnings=warnings,
        samples=evidence.sample_outputs(plan.rows, c.items),
        notes=notes,
        fmt=_fmt,
        descriptions={v.name: v.description or "" for v in config.variants},
    )
    return results, csv_path, report
