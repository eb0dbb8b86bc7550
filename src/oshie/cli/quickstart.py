"""`oshie quickstart`: the end-to-end demo (see oshie.experiment.quickstart)."""

from __future__ import annotations

from pathlib import Path

import typer

from oshie.console import info, out

OUT_OPT = typer.Option(
    Path("runs/quickstart"),
    "--out",
    "-o",
    help="Run directory (re-running it reuses finished stages).",
)
SET_OPT = typer.Option(
    None,
    "--set",
    help="Override a field of the shipped quickstart "
    "experiment, e.g. --set recipe.sft.epochs=2. Repeatable.",
)


CACHE_OPT = typer.Option(
    None,
    "--cache",
    help="Shared stage store (see `oshie experiment run --help`); default: the run directory.",
)

SUMMARY = "The end-to-end demo, offline on a CPU."


def command(
    out_dir: Path = OUT_OPT,
    overrides: list[str] | None = SET_OPT,
    cache_dir: Path | None = CACHE_OPT,
) -> None:
    """Train a tiny Japanese model offline, tune it on clean vs flawed instruction data,
    evaluate on the shipped mini tasks and write the comparison report (CPU, a few minutes)."""
    from oshie.config import parse_overrides
    from oshie.experiment.quickstart import next_steps, run_quickstart

    info("oshie quickstart: tokenizer + tiny model -> pre-train -> audit -> SFT x 3 -> eval x 4")
    run = run_quickstart(
        out_dir, parse_overrides(overrides, example="recipe.sft.max_steps=20"), cache_dir
    )
    info(
        f"{len(run.ran)} stages ran ({len(run.resumed)} resumed), "
        f"{len(run.skipped)} reused from the cache"
    )
    out.print(f"\nreport:  {run.report}")
    out.print(f"table:   {run.results_csv}")
    out.print("\nnext:")
    for line in next_steps(run, overrides or [], cache_dir):
        out.print(f"  {line}", markup=False, highlight=False)
