"""The `oshie` CLI run in-process, ending the way `oshie.cli.app.main` ends."""

from __future__ import annotations

from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.errors import OshieError


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """(exit code, stdout, rendered oshie error) of `oshie -q ARGS`; any other exception is raised."""
    result = CliRunner().invoke(app, ["-q", *args])
    exc = result.exception
    if isinstance(exc, OshieError):
        return exc.exit_code, result.stdout, exc.render()
    if exc is not None and not isinstance(exc, SystemExit):
        raise exc
    return result.exit_code, result.stdout, ""
