"""`oshie model`: create random Llama models from presets and merge LoRA adapters.

Parsing and printing only; the work is in `oshie.train.tiny` and `oshie.train.merge`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from oshie.console import out

SUMMARY = "Create tiny models and merge LoRA adapters."
app = typer.Typer(no_args_is_help=True)


@app.command("init")
def init(
    tokenizer: Annotated[Path, typer.Option("--tokenizer", "-t", help="Tokenizer directory (e.g. from 'oshie tokenizer train').")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory for the model (safetensors) and its tokenizer.")],
    preset: Annotated[str, typer.Option("--preset", "-p", help="Size preset: tiny, small or base.")] = "tiny",
    overrides: Annotated[list[str] | None, typer.Option("--set", help="Override a LlamaConfig field, e.g. --set hidden_size=192 (repeatable).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed for the initial weights.")] = 0,
) -> None:
    """Create a randomly initialised Llama-architecture model sized from a preset."""
    from oshie.paths import guard_outputs
    from oshie.train.tiny import describe_model, init_model, parse_fields

    guard_outputs([out_dir], [tokenizer], option="--out")
    path = init_model(tokenizer, out_dir, preset=preset, seed=seed, **parse_fields(overrides or []))
    t = Table(show_header=False, box=None)
    t.add_column(style="bold")
    t.add_column()
    for key, value in describe_model(path).items():
        t.add_row(key, str(value))
    out.print(t)
    out.print(f"saved -> {escape(str(path))}")


@app.command("merge")
def merge(
    adapter: Annotated[Path, typer.Argument(help="LoRA adapter directory (output_dir of a method: lora run).")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory for the merged model.")],
    base: Annotated[Path | None, typer.Option("--base", help="Local base model directory (default: the one recorded in the adapter).")] = None,
) -> None:
    """Merge a LoRA adapter into its base model, offline, and save a plain model."""
    from oshie.paths import guard_outputs
    from oshie.train.merge import merge_adapter

    guard_outputs([out_dir], [adapter, base], option="--out")
    path = merge_adapter(adapter, out_dir, base=base)
    out.print(f"merged -> {escape(str(path))}")
