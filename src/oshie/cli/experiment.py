"""`oshie experiment run|status|plan`: parse options and print; logic lives in oshie.experiment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from oshie.cli.common import add_options
from oshie.console import info, out

SUMMARY = "Data variants x base models -> tune -> evaluate -> report."
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


@dataclass
class Target:
    """The experiment a command acts on: its YAML with --set overrides, the run directory
    and the shared stage store."""

    experiment: Path
    out_dir: Path | None
    overrides: list[str] | None
    cache_dir: Path | None

    def load(self) -> tuple[Any, Path]:
        """(the experiment config, its run directory: --out, else runs/<experiment name>)."""
        from oshie.config import parse_overrides
        from oshie.experiment.config import load_experiment

        pairs = parse_overrides(self.overrides, example="recipe.sft.max_steps=20")
        config = load_experiment(self.experiment, pairs)
        return config, self.out_dir or Path("runs") / config.name


# the options of every command that acts on one experiment, handed over as `target: Target`
target_options = add_options("target", [
    ("experiment", Path, EXPERIMENT_ARG),
    ("out_dir", Path | None, OUT_OPT),
    ("overrides", list[str] | None, SET_OPT),
    ("cache_dir", Path | None, CACHE_OPT),
], lambda given: Target(**given))


@app.command("run")
@target_options
def run(target: Target = None) -> None:  # type: ignore[assignment]  # the target options
    """Run every stage not finished yet (cached by content hash), then write the report.

    Re-running after an edit recomputes only the stages whose settings or inputs changed;
    an interrupted run resumes (training from its last checkpoint).
    """
    from oshie.experiment.runner import run_experiment
    from oshie.paths import guard_outputs

    config, run_dir = target.load()
    guard_outputs([run_dir, *(run_dir / n for n in ("experiment.yaml", "manifest.json", "report.html", "results.csv", "results.json"))],
                  [target.experiment], option="--out")
    result = run_experiment(config, run_dir, target.cache_dir)
    info(
        f"{len(result.ran)} stages ran ({len(result.resumed)} resumed), "
        f"{len(result.skipped)} reused from the cache"
    )
    out.print(f"report:  {result.report}")
    out.print(f"table:   {result.results_csv}")


@app.command("status")
@target_options
def status(target: Target = None) -> None:  # type: ignore[assignment]  # the target options
    """Show which stages are done, partial (interrupted) or pending for this plan."""
    from oshie.experiment.runner import experiment_status, stale_stage_dirs

    config, run_dir = target.load()
    rows = experiment_status(config, run_dir, target.cache_dir)
    table = Table(title=f"{config.name} in {run_dir}")
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
    stale = stale_stage_dirs(config, run_dir)
    if stale:
        out.print(
            f"{len(stale)} stage directories belong to earlier versions of the plan "
            f"(kept as cache; safe to delete): {', '.join(d.name for d in stale)}"
        )
