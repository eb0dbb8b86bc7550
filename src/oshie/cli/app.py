"""The `oshie` command. Each command group lives in its own module under `oshie.cli`.

A group module exports `app` (a `typer.Typer`); a single-command module exports
`command` (a function). Modules only parse options and print: logic lives in the stages.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.markup import escape

from oshie import __version__
from oshie.console import console, set_quiet
from oshie.errors import OshieError

# (module under oshie.cli, command name, one-line help)
COMMANDS: list[tuple[str, str, str]] = [
    ("data", "data", "Read, convert, validate, audit and describe instruction data."),
    ("tokenizer", "tokenizer", "Train and compare Japanese tokenizers."),
    ("model", "model", "Create tiny models and merge LoRA adapters."),
    ("template", "template", "Show chat templates and which tokens are trained."),
    ("train", "train", "Tune models: SFT, DPO, continued pre-training."),
    ("eval", "eval", "Evaluate models: JGLUE tasks, summaries, LLM-judge grading, pairwise."),
    ("synth", "synth", "Grow instruction data with an LLM: self-instruct, evol, magpie, screening."),
    ("llm", "llm", "LLM backends and the call cache."),
    ("serve", "serve", "Serve a local model over an OpenAI-compatible HTTP API."),
    ("studio", "studio", "The web app for writers, answerers, checkers and blind human evaluation."),
    ("corpus", "corpus", "Pre-training corpora: clean, dedup, mix, quality classifier, stats."),
    ("experiment", "experiment", "Data variants x base models -> tune -> evaluate -> report."),
    ("quickstart", "quickstart", "The end-to-end demo, offline on a CPU."),
]

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
    for module_name, name, help_text in COMMANDS:
        module = importlib.import_module(f"oshie.cli.{module_name}")
        if hasattr(module, "app"):
            app.add_typer(module.app, name=name, help=help_text)
        else:
            app.command(name, help=help_text)(module.command)


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
