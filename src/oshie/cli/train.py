"""`oshie train`: SFT, DPO and continued pre-training from a YAML config.

Parsing and printing only; the work is in `oshie.train.sft`, `.dpo` and `.cpt`.
Under `accelerate launch` the same command trains on several processes/GPUs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from oshie.console import out

SUMMARY = "Tune models: SFT, DPO, continued pre-training."
app = typer.Typer(no_args_is_help=True)

ConfigArg = Annotated[Path, typer.Argument(help="YAML config (see examples/train/).")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a config key: --set learning_rate=1e-4, --set lora.r=8, "
                 "--set datasets.0.weight=2 (repeatable; values parsed as YAML)."),
]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint in output_dir.")]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Start again even if output_dir holds a run (its checkpoints are deleted).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON instead of a table.")]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _summary(result: Any) -> Table:
    t = Table(title=f"oshie train {result.kind}", title_justify="left", show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")
    rows: list[tuple[str, Any]] = [
        ("output", escape(str(result.output_dir)) + (" (LoRA adapter)" if result.adapter else "")),
        ("steps", result.global_step),
        ("loss first -> last", f"{_fmt(result.initial_loss)} -> {_fmt(result.final_loss)}"),
    ]
    last = {}
    for entry in result.log_history:
        last.update(entry)
    for key in ("rewards/accuracies", "rewards/margins", "eval_loss", "mean_token_accuracy"):
        if key in last:
            rows.append((key, _fmt(last[key])))
    d = result.data
    rows += [
        ("examples (train/eval)", f"{d.get('train_examples')}/{d.get('eval_examples')}"),
        ("tokens in data", d.get("tokens")),
    ]
    if "trained_tokens" in d:
        rows.append(("trained tokens", d["trained_tokens"]))
    if d.get("dropped_truncated"):
        rows.append(("dropped (truncated)", d["dropped_truncated"]))
    if "rope_parameters" in d:
        rows.append(("rope", f"{d['rope_parameters']} / {d['max_position_embeddings']} positions"))
    rows += [
        ("tokens processed", result.tokens_seen),
        ("tokens/s", _fmt(result.tokens_per_second)),
        ("wall time", f"{result.wall_time_s:.1f} s"),
    ]
    if result.world_size > 1:
        rows.append(("processes", result.world_size))
    if result.resumed_from:
        rows.append(("resumed from", escape(result.resumed_from)))
    for key, value in rows:
        t.add_row(key, str(value))
    return t


def _show(result: Any, as_json: bool) -> None:
    from oshie.train.loop import is_main_process

    if not is_main_process():  # one summary per job, not one per process
        return
    if as_json:
        out.print_json(json.dumps(result.as_dict(), ensure_ascii=False, default=str))
    else:
        out.print(_summary(result))


@app.command("sft")
def sft(config: ConfigArg, overrides: SetOpt = None, resume: ResumeOpt = False,
        overwrite: OverwriteOpt = False, as_json: JsonOpt = False) -> None:
    """Supervised fine-tuning on conversations (full, LoRA or QLoRA), assistant-only loss."""
    from oshie.train.sft import train_sft

    _show(train_sft(config, overrides or [], resume=resume, overwrite=overwrite), as_json)


@app.command("dpo")
def dpo(config: ConfigArg, overrides: SetOpt = None, resume: ResumeOpt = False,
        overwrite: OverwriteOpt = False, as_json: JsonOpt = False) -> None:
    """Direct preference optimisation on preference pairs."""
    from oshie.train.dpo import train_dpo

    _show(train_dpo(config, overrides or [], resume=resume, overwrite=overwrite), as_json)


@app.command("cpt")
def cpt(config: ConfigArg, overrides: SetOpt = None, resume: ResumeOpt = False,
        overwrite: OverwriteOpt = False, as_json: JsonOpt = False) -> None:
    """Continued pre-training on raw text, optionally with RoPE scaling for a longer context."""
    from oshie.train.cpt import train_cpt

    _show(train_cpt(config, overrides or [], resume=resume, overwrite=overwrite), as_json)


@app.command("check")
def check(config: ConfigArg, overrides: SetOpt = None,
          kind: Annotated[str | None, typer.Option("--kind", help="sft, dpo or cpt (default: the config's 'kind' key, else sft).")] = None) -> None:
    """Validate a config (keys, values, conflicts) without loading a model."""
    from oshie.train.config import load_train_config

    cfg = load_train_config(config, overrides or [], kind=kind)
    out.print(f"{escape(str(config))}: valid {cfg.kind} config")
