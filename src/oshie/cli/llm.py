"""`oshie llm`: try a backend, run a batch of requests, inspect the call cache."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text

from oshie.cli.common import LLMFlags, key_value_table, llm_options, resolve_llm
from oshie.console import console, info, is_quiet, out
from oshie.errors import UsageError

SUMMARY = "LLM backends and the call cache."
app = typer.Typer(no_args_is_help=True)

MaxTokOpt = Annotated[int | None, typer.Option("--max-tokens", help="Most tokens to generate.")]
TempOpt = Annotated[
    float | None,
    typer.Option("--temperature", help="0 for greedy; higher samples more freely."),
]
TopPOpt = Annotated[float | None, typer.Option("--top-p", help="Nucleus sampling mass.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Seed for reproducible sampling.")]
StopOpt = Annotated[
    list[str] | None,
    typer.Option("--stop", help="Stop string (repeatable); not included in the answer."),
]


def _config(llm: LLMFlags) -> Any:
    if is_quiet():  # retry warnings are chatter; the final error is still printed
        logging.getLogger("oshie.llm").setLevel(logging.ERROR)
    return resolve_llm(llm)


def _params(
    max_tokens: int | None,
    temperature: float | None,
    top_p: float | None,
    seed: int | None,
    stop: list[str] | None,
) -> Any:
    from pydantic import ValidationError

    from oshie.llm.base import GenerationParams

    given = {
        "max_tokens": max_tokens,
        "temperature": temperature,
        "top_p": top_p,
        "seed": seed,
        "stop": stop or None,
    }
    try:
        return GenerationParams(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:  # e.g. --temperature nan
        err = exc.errors()[0]
        name = str(err["loc"][0]).replace("_", "-")
        raise UsageError(f"--{name}: {err['msg']}", field=str(err["loc"][0])) from None


@app.command("chat")
@llm_options(model_short="-m")
def chat(
    text: Annotated[str, typer.Argument(help="The user message (or the raw prompt with --raw).")],
    llm: LLMFlags = None,  # type: ignore[assignment]  # the shared LLM options
    system: Annotated[str | None, typer.Option("--system", "-s", help="System prompt.")] = None,
    raw: Annotated[
        bool, typer.Option("--raw", help="Send TEXT as a raw completion prompt (no chat template).")
    ] = False,
    max_tokens: MaxTokOpt = 256,
    temperature: TempOpt = None,
    top_p: TopPOpt = None,
    seed: SeedOpt = None,
    stop: StopOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole Generation as JSON.")
    ] = False,
) -> None:
    """Send one message (or prompt) and print the answer: a quick check of a backend."""
    from oshie.llm.base import LLMRequest
    from oshie.llm.config import build_llm

    cfg = _config(llm)
    params = _params(max_tokens, temperature, top_p, seed, stop)
    if raw:
        req = LLMRequest(prompt=text, params=params)
    else:
        msgs = [{"role": "system", "content": system}] if system else []
        req = LLMRequest(messages=[*msgs, {"role": "user", "content": text}], params=params)
    with build_llm(cfg, no_cache=llm.no_cache) as client:
        gen = client.generate([req])[0]
    if as_json:
        out.print_json(json.dumps(gen.model_dump(), ensure_ascii=False))
        return
    out.print(gen.text, markup=False, emoji=False)
    info(
        f"[dim]finish={gen.finish_reason} prompt_tokens={gen.usage.prompt_tokens} "
        f"completion_tokens={gen.usage.completion_tokens}"
        f"{' (cached)' if gen.cached else ''}[/dim]"
    )


@app.command("generate")
@llm_options(model_short="-m")
def generate(
    requests: Annotated[
        Path,
        typer.Argument(
            help="JSONL of requests: {id, messages | prompt, system?, params?, n?} per line."
        ),
    ],
    out_dir: Annotated[
        Path,
        typer.Option("--out", "-o", help="Run directory for generations.jsonl and manifest.json."),
    ],
    llm: LLMFlags = None,  # type: ignore[assignment]  # the shared LLM options
    max_tokens: MaxTokOpt = None,
    temperature: TempOpt = None,
    top_p: TopPOpt = None,
    seed: SeedOpt = None,
    stop: StopOpt = None,
) -> None:
    """Answer every request of a JSONL file; with a cache, reruns only call for what is missing."""
    from oshie.llm.batch import run_batch
    from oshie.llm.config import build_llm

    cfg = _config(llm)
    defaults = _params(max_tokens, temperature, top_p, seed, stop)
    with build_llm(cfg, no_cache=llm.no_cache) as client:
        result = run_batch(client, requests, out_dir, defaults=defaults, config=cfg)
    cached = "" if result.hits is None else f"; cache hits {result.hits}, misses {result.misses}"
    console.print(
        f"{result.samples} generations for {result.requests} requests -> "
        f"{escape(str(result.out_dir / 'generations.jsonl'))}{cached}",
        soft_wrap=True,
    )


@app.command("cache-stats")
def cache_stats(
    db: Annotated[Path, typer.Argument(help="The SQLite cache file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the stats as JSON.")] = False,
) -> None:
    """How many finished calls a cache holds, per backend and model."""
    from oshie.llm.cache import cache_stats as stats_of

    stats = stats_of(db).as_dict()
    stats.pop("hits")
    stats.pop("misses")
    if as_json:
        out.print_json(json.dumps(stats, ensure_ascii=False))
        return
    table = key_value_table()
    table.add_row("cache", Text(stats["path"]))
    table.add_row("entries", str(stats["entries"]))
    table.add_row("size", f"{stats['size_bytes'] / 1024:.1f} KiB")
    table.add_row("oldest", str(stats["oldest"] or "-"))
    table.add_row("newest", str(stats["newest"] or "-"))
    for name, n in stats["by_model"].items():
        table.add_row("model", Text(f"{name}: {n}"))  # Text: no markup or :emoji: codes
    out.print(table)
