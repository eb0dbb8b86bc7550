"""`oshie experiment run|status|plan`: parse options and print; logic lives in oshie.experiment."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from oshie.console import info, out

app = typer.Typer(no_args_is_help=True)

EXPERIMENT_ARG = typer.Argument(
    ..., help="Experiment YAML (see examples/experiment.yaml).", exists=False, dir_okay=False
)
OUT_OPT = typer.Option(None, "--out", "-o", help="Run directory. Default: runs/<experiment name>.")
CACHE_OPT = typer.Option(
    None,
    "--cache",
    help="Shared stage store: stages finished there by any run directory are reused "
    "(default: $OSHIE_STAGE_CACHE, else only the run directory's own stages).",
)
SET_OPT = typer.Option(
    None,
    "--set",
    help="Override a field: key=value with dotted keys, "
    "e.g. --set recipe.sft.epochs=2 --set eval.tasks.0.limit=20. Repeatable.",
)


def _load(path: Path, overrides: list[str] | None):
    from oshie.config import parse_overrides
    from oshie.experiment.config import load_experiment

    return load_experiment(path, parse_overrides(overrides, example="recipe.sft.max_steps=20"))


def _out_dir(config, out_dir: Path | None) -> Path:
    return out_dir or Path("runs") / config.name


@app.command("run")
def run(
    experiment: Path = EXPERIMENT_ARG,
    out_dir: Path | None = OUT_OPT,
    overrides: list[str] | None = SET_OPT,
    cache_dir: Path | None = CACHE_OPT,
) -> None:
    """Run every stage not finished yet (cached by content hash), then write the report.

    Re-running after an edit recomputes only the stages whose settings or inputs changed;
    an interrupted run resumes (training from its last checkpoint).
    """
    from oshie.experiment.runner import run_experiment
    from oshie.paths import guard_outputs

    config = _load(experiment, overrides)
    target = _out_dir(config, out_dir)
    guard_outputs([target, *(target / n for n in ("experiment.yaml", "manifest.json", "report.html", "results.csv", "results.json"))],
                  [experiment], option="--out")
    result = run_experiment(config, target, cache_dir)
    info(
        f"{len(result.ran)} stages ran ({len(result.resumed)} resumed), "
        f"{len(result.skipped)} reused from the cache"
    )
    out.print(f"report:  {result.report}")
    out.print(f"table:   {result.results_csv}")


@app.command("status")
def status(
    experiment: Path = EXPERIMENT_ARG,
    out_dir: Path | None = OUT_OPT,
    overrides: list[str] | None = SET_OPT,
    cache_dir: Path | None = CACHE_OPT,
) -> None:
    """Show which stages are done, partial (interrupted) or pending for this plan."""
    from oshie.experiment.runner import experiment_status, stale_stage_dirs

    config = _load(experiment, overrides)
    target = _out_dir(config, out_dir)
    rows = experiment_status(config, target, cache_dir)
    table = Table(title=f"{config.name} in {target}")
    for col in ("stage", "state", "time (s)", "directory"):
        table.add_column(col)
    colour = {"done": "green", "partial": "yellow", "pending": "dim"}
    for s in rows:
        table.add_row(
            s.id,
            f"[{colour[s.state]}]{s.state}[/]",
            f"{s.wall_time_s:.1f}" if s.wall_time_s is not None else "",
            s.dir.name,
        )
    out.print(table)
    done = sum(s.state == "done" for s in rows)
    out.print(f"{done}/{len(rows)} stages done")
    stale = stale_stage_dirs(config, target)
    if stale:
        out.print(
            f"{len(stale)} stage directories belong to earlier versions of the plan "
            f"(kept as cache; safe to delete): {', '.join(d.name for d in stale)}"
        )
