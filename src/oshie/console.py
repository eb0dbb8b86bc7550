"""Shared console and progress bars. Everything long shows a bar unless quiet."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["console", "info", "is_quiet", "out", "progress", "set_quiet", "track", "warn"]


T = TypeVar("T")

console = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)
_state = {"quiet": bool(os.environ.get("OSHIE_QUIET"))}


def set_quiet(quiet: bool) -> None:
    """Switch progress bars and chatter off (`oshie -q`) or on."""
    _state["quiet"] = quiet


def is_quiet() -> bool:
    """Whether `-q` (or OSHIE_QUIET) asked for silence."""
    return _state["quiet"]


def progress() -> Progress:
    """A rich Progress writing to stderr; off when quiet or when stderr is not a terminal
    (a log file or CI gets the summaries, not a blank line per finished bar)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=_state["quiet"] or not console.is_terminal,
    )


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar (a spinner when the total is unknown)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress() as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)


def info(message: str) -> None:
    """Progress chatter on stderr, hidden by `-q`; results go to stdout via `out`."""
    if not _state["quiet"]:
        console.print(message)


def warn(message: str) -> None:
    """A warning on stderr, shown even with `-q`: it says something went differently."""
    console.print(f"[yellow]warning:[/yellow] {message}")
