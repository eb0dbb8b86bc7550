"""Run an experiment: every stage in dependency order, finished stages skipped, then the report.

    run = run_experiment(load_experiment("examples/experiment.yaml"), "runs/exp")
    run.ran, run.skipped          # stage ids computed in this run vs reused from the cache
    run.report, run.results_csv   # the comparison report and table

The output directory holds `stages/<stage>-<key>/` (one per stage), `experiment.yaml`
(the resolved plan), `plan.json` (stage -> directory and status), `manifest.json`,
`results.csv`, `results.json` and `report.html`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from oshie.console import info
from oshie.experiment.cache import Stage, StageOutput, is_done, read_marker, write_marker
from oshie.experiment.config import ExperimentConfig
from oshie.experiment.plan import Plan, build_plan
from oshie.experiment.stages import ADAPTERS, stage_manifest
from oshie.paths import exclusive_lock
from oshie.runs import Manifest, write_json

STAGES_DIR = "stages"
CACHE_ENV = "OSHIE_STAGE_CACHE"
LOCK_FILE = ".lock"


@dataclass
class StageStatus:
    id: str
    kind: str
    dir: Path
    state: str  # done | pending | partial (an interrupted run left files, no marker)
    wall_time_s: float | None = None


@dataclass
class ExperimentRun:
    out_dir: Path
    plan: Plan
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)  # ran, continuing an interrupted attempt
    results: dict[str, Any] = field(default_factory=dict)
    report: Path | None = None
    results_csv: Path | None = None


def stage_store(cache_dir: str | Path | None) -> Path | None:
    """The shared stage store: `--cache DIR`, else $OSHIE_STAGE_CACHE, else none (stages
    live in the run directory only)."""
    value = cache_dir or os.environ.get(CACHE_ENV)
    return Path(value).expanduser().absolute() if value else None


def stage_dir(out_dir: Path, stage: Stage, store: Path | None = None, link: bool = False) -> Path:
    """Where a stage lives as seen from the run: `<out>/stages/<kind>-<key>`.

    With a store, that path is a link to `<store>/<kind>-<key>` (created when `link`), so any
    run directory using the same store finds a stage another one finished. A real directory
    already in the run (computed before the store was used) is kept as it is."""
    d = out_dir / STAGES_DIR / stage.dirname
    if store is None or (d.exists() and not d.is_symlink()):
        return d
    target = store / stage.dirname
    if not link:
        return d if d.is_symlink() else target
    if store.absolute() == (out_dir / STAGES_DIR).absolute():
        return d
    target.mkdir(parents=True, exist_ok=True)
    if d.is_symlink() and d.resolve() == target.resolve():
        return d
    d.parent.mkdir(parents=True, exist_ok=True)
    if d.is_symlink():
        d.unlink()
    d.symlink_to(target.resolve(), target_is_directory=True)
    return d


@contextmanager
def stage_lock(store: Path | None, stage: Stage) -> Iterator[None]:
    """One writer per stage of a shared store (two runs may share it); waits its turn."""
    if store is None:
        yield
        return
    import fcntl

    store.mkdir(parents=True, exist_ok=True)
    with open(store / f"{stage.dirname}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def experiment_status(
    config: ExperimentConfig, out_dir: str | Path, cache_dir: str | Path | None = None
) -> list[StageStatus]:
    """Which stages of the plan are finished in `out_dir` (or in the shared stage store)."""
    out = Path(out_dir)
    store = stage_store(cache_dir)
    plan = build_plan(config)
    statuses = []
    for s in plan.stages:
        d = stage_dir(out, s, store)
        if is_done(s, d):
            marker = read_marker(d) or {}
            statuses.append(StageStatus(s.id, s.kind, d, "done", marker.get("wall_time_s")))
        elif d.is_dir() and any(d.iterdir()):
            statuses.append(StageStatus(s.id, s.kind, d, "partial"))
        else:
            statuses.append(StageStatus(s.id, s.kind, d, "pending"))
    return statuses


def _set_threads(n: int | None) -> int | None:
    """Set torch's CPU threads; returns the previous count (to restore it afterwards)."""
    if not n:
        return None
    from oshie.errors import require

    torch = require("torch", "train")
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    return previous


def stale_stage_dirs(config: ExperimentConfig, out_dir: str | Path) -> list[Path]:
    """Stage directories in `out_dir` that no stage of the current plan uses (earlier
    versions of edited stages). They are kept as a cache; delete them to reclaim space."""
    stages = Path(out_dir) / STAGES_DIR
    if not stages.is_dir():
        return []
    current = {s.dirname for s in build_plan(config).stages}
    return sorted(d for d in stages.iterdir() if d.is_dir() and d.name not in current)


@contextmanager
def run_lock(out: Path) -> Iterator[None]:
    """One run per output directory at a time: two writers would corrupt the stages."""
    with exclusive_lock(out / LOCK_FILE, "another experiment run is using this directory", path=out,
                        hint="wait for it to finish, or pass a different --out"):
        yield


def run_experiment(
    config: ExperimentConfig, out_dir: str | Path, cache_dir: str | Path | None = None
) -> ExperimentRun:
    """Run what is not finished yet, then write the results table and the report.

    `cache_dir` (or $OSHIE_STAGE_CACHE) is a stage store shared by run directories: a stage
    finished there by any run is reused by every other run of the same stage."""
    out = Path(out_dir)
    with run_lock(out):
        return _locked_run(config, out, stage_store(cache_dir))


def _locked_run(config: ExperimentConfig, out: Path, store: Path | None) -> ExperimentRun:
    plan = build_plan(config)
    (out / "experiment.yaml").write_text(
        yaml.safe_dump(config.model_dump(mode="json"), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    manifest = Manifest(
        out, "experiment", {"name": config.name, "seed": config.seed, "threads": config.threads}
    )
    previous_threads = _set_threads(config.threads)
    try:
        return _run(config, out, plan, manifest, store)
    finally:
        _set_threads(previous_threads)


def _run(
    config: ExperimentConfig, out: Path, plan: Plan, manifest: Manifest, store: Path | None
) -> ExperimentRun:
    run = ExperimentRun(out, plan)
    finished: dict[str, StageOutput] = {}
    total = len(plan.stages)
    for n, stage in enumerate(plan.stages, 1):
        d = stage_dir(out, stage, store, link=True)
        with stage_lock(store, stage):
            _run_stage(stage, d, n, total, run, finished)
    _finish(config, out, plan, manifest, run, finished)
    return run


def _run_stage(
    stage: Stage,
    d: Path,
    n: int,
    total: int,
    run: ExperimentRun,
    finished: dict[str, StageOutput],
) -> None:
    """Run one stage unless it is finished (here, in the store, or under another label
    with identical content earlier in this plan)."""
    if is_done(stage, d):
        finished[stage.id] = StageOutput(d, (read_marker(d) or {})["outputs"])
        run.skipped.append(stage.id)
        info(f"[dim][{n}/{total}] {stage.id}: cached ({d.name})[/dim]")
        return
    partial = d.is_dir() and any(d.iterdir())
    info(f"[bold][{n}/{total}] {stage.id}[/bold]" + (" (resuming)" if partial else ""))
    d.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    upstream = {dep: finished[dep] for dep in stage.deps}
    stage_m = None if stage.kind in ("eval", "judge", "pairwise") else stage_manifest(stage, d)
    outputs = ADAPTERS[stage.kind](stage, d, upstream)
    wall = time.perf_counter() - t0
    if stage_m is not None:  # eval/judge stages write their own manifest in the directory
        stage_m.write(outputs=outputs)
    write_marker(stage, d, outputs, wall)  # last: only now does the stage count as finished
    finished[stage.id] = StageOutput(d, outputs)
    run.ran.append(stage.id)
    if partial:
        run.resumed.append(stage.id)


def _finish(
    config: ExperimentConfig,
    out: Path,
    plan: Plan,
    manifest: Manifest,
    run: ExperimentRun,
    finished: dict[str, StageOutput],
) -> None:
    write_json(
        out / "plan.json",
        {
            s.id: {
                "dir": str(stage_dir(out, s).relative_to(out)),
                "key": s.key,
                "deps": s.deps,
                "state": "ran" if s.id in run.ran else "cached",
            }
            for s in plan.stages
        },
    )
    from oshie.experiment.report import write_outputs

    run.results, run.results_csv, run.report = write_outputs(config, plan, finished, out)
    manifest.write(
        stages={s.id: {"key": s.key, "dir": stage_dir(out, s).name} for s in plan.stages},
        ran=run.ran,
        skipped=run.skipped,
        resumed=run.resumed,
        outputs={"results": "results.csv", "report": "report.html"},
    )
