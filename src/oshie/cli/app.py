"""The `oshie` command. Each command group lives in its own module under `oshie.cli`.

A group module exports `app` (a `typer.Typer`); a single-command module exports
`command` (a function); each exports `SUMMARY`, its help line. Modules only parse options
and print: logic lives in the stages.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.markup import escape

from oshie import __version__
from oshie.console import console, set_quiet
from oshie.errors import OshieError

# the command groups, in `oshie --help` order: oshie.cli.<name> (its `app`, or its single
# `command`) with its one-line `SUMMARY`
COMMANDS = ("data", "tokenizer", "model", "template", "train", "eval", "synth", "llm", "serve",
            "studio", "corpus", "experiment", "quickstart")

app = typer.Typer(
    name="oshie",
    help="oshie (教え): a Japanese-first workbench for instruction-tuned LLMs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # help texts are plain text: "[default: …]" or "[1]" must print, not vanish as markup
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"oshie {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or chatter."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    set_quiet(quiet)


def _register() -> None:
    for name in COMMANDS:
        module = importlib.import_module(f"oshie.cli.{name}")
        if hasattr(module, "app"):
            app.add_typer(module.app, name=name, help=module.SUMMARY)
        else:
            app.command(name, help=module.SUMMARY)(module.command)


_register()


def main() -> None:
    try:
        app()
    except OshieError as exc:
        console.print(f"[bold red]error:[/bold red] {escape(exc.render())}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
