"""`oshie template`: show how a chat template renders and which tokens are trained.

Parsing and printing only; the work is in `oshie.train.templates`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from oshie.console import out

SUMMARY = "Show chat templates and which tokens are trained."
app = typer.Typer(no_args_is_help=True)


@app.command("show")
def show(
    model: Annotated[Path, typer.Argument(help="Local model or tokenizer directory.")],
    template: Annotated[str, typer.Option("--template", help="auto (model's own if trainable, else ChatML), chatml, model, or a .jinja file.")] = "auto",
    conversation: Annotated[Path | None, typer.Option("--conversation", help="A records file; its first conversation is shown instead of the built-in Japanese sample.")] = None,
    width: Annotated[int, typer.Option("--width", help="Line width of the token view.")] = 100,
    raw: Annotated[bool, typer.Option("--raw", help="Print only the rendered text.")] = False,
) -> None:
    """Render a Japanese multi-turn conversation; highlight trained tokens and mark them with ^."""
    from oshie.train.templates import (
        SAMPLE_CONVERSATION,
        caret_view,
        mark_trained_tokens,
        resolve_template,
    )
    from oshie.train.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(model)
    chosen = resolve_template(tokenizer, template, source=str(model))
    messages = SAMPLE_CONVERSATION
    if conversation is not None:
        from oshie.train.data import as_conversation, read_records

        records = read_records(conversation)
        if records:
            messages = as_conversation(records[0]).chat()
    marked = mark_trained_tokens(tokenizer, messages, chosen)
    if raw:
        out.print(escape(marked.text), end="")
        return
    out.print("[bold]rendered[/bold] (trained tokens highlighted)")
    text = Text()
    for token, trained in zip(marked.tokens, marked.trained, strict=True):
        text.append(token, style="bold black on green" if trained else "")
    out.print(text)
    out.print("[bold]tokens[/bold] (| separates tokens, ^ = trained, · = rest of a split character)")
    for top, bottom in caret_view(marked, width):
        out.print(escape(top))
        if bottom.strip():
            out.print(f"[green]{bottom.rstrip()}[/green]")
    n = len(marked.tokens)
    out.print(f"{marked.n_trained} of {n} tokens trained ({100 * marked.n_trained / n:.1f}%), "
              f"{n - marked.n_trained} masked")
