"""Option handling and printing shared by several command groups.

LLM settings are declared once here and reach `oshie llm`, every `oshie synth` command and
`oshie eval judge`/`compare` through `@llm_options(...)`. Every command resolves them with
one precedence, highest first:

    explicit flag (--timeout 30)  >  --set timeout=30  >  config file  >  LLMConfig default

The same field names work everywhere: as flags, as `--set` keys and as keys of the LLM
config file (or of the `llm:` section of a stage config).
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from oshie.errors import UsageError


@dataclass
class LLMFlags:
    """The LLM options as given on the command line (fields left out were not given)."""

    config: Path | None = None
    sets: list[str] = field(default_factory=list)
    no_cache: bool = False
    fields: dict[str, Any] = field(default_factory=dict)
    prefix: str = ""  # "judge" for --judge-model ...

    def flag(self, suffix: str) -> str:
        return f"--{self.prefix}-{suffix}" if self.prefix else f"--{suffix}"


# (parameter name, flag suffix, type, help); the flag is --[prefix-]suffix
_FIELDS: list[tuple[str, str, Any, str]] = [
    ("base_url", "base-url", str | None,
     "OpenAI-compatible server URL ending in /v1 (vLLM, llama.cpp, Ollama, oshie serve, OpenAI)."),
    ("model", "model", str | None, "Model name on the server."),
    ("local", "local", Path | None,
     "Generate with this local model directory (transformers) instead of a server."),
    ("api_key_env", "api-key-env", str | None,
     "NAME of the environment variable holding the API key (never the key) "
     "[default: OPENAI_API_KEY]."),
    ("cache", "cache", Path | None, "SQLite call cache: finished calls are never paid twice."),
    ("concurrency", "concurrency", int | None, "Requests in flight at once [default: 8]."),
    ("timeout", "timeout", float | None, "Seconds before one HTTP attempt gives up [default: 60]."),
    ("max_retries", "max-retries", int | None,
     "Retries of a failed call (429/5xx/timeouts) [default: 6]."),
    ("device", "device", str | None,
     "Local model: torch device, auto (cuda when present), cpu, cuda:1 ... [default: auto]."),
]


# (parameter name, annotation, default) as typer reads a parameter: Annotated[type, typer.Option]
# with a plain default, or a plain type with a typer.Option / typer.Argument as the default;
# inspect.Parameter.empty as the default makes it required
Option = tuple[str, Any, Any]


def add_options(
    target: str, options: Sequence[Option], collect: Callable[[dict[str, Any]], Any],
    *, first: Sequence[Option] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Append `options` to a typer command's own parameters and hand their values to it
    as one argument: the command declares `target` and receives `collect({name: value})`.

    How a group of options several commands share is declared once (the LLM options, the
    sampling and license options of `oshie synth`, the step options of `oshie corpus`, the
    experiment of `oshie experiment run|status`);
    `--help` lists them after the command's own options, in the given order, and `first`
    (collected with them) before the command's own (the input and --out of `oshie synth`)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(fn, include_extras=True)
        own = [p.replace(annotation=hints.get(p.name, p.annotation))
               for p in inspect.signature(fn).parameters.values() if p.name != target]
        added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                   annotation=annotation)
                 for name, annotation, default in [*first, *options]]
        # typer reads names, defaults and annotations in this order and passes every value
        # by name: keyword-only lets a required option follow one with a default
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
                  for p in [*added[:len(first)], *own, *added[len(first):]]]

        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> Any:
            given = {name: kwargs.pop(name) for name, _, _ in [*first, *options]}
            return fn(*args, **kwargs, **{target: collect(given)})

        del command.__wrapped__  # typer must see the new signature, not fn's
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return decorate


def llm_options(
    prefix: str = "",
    *,
    config_flag: tuple[str, ...] | None = ("--config", "-c"),
    config_help: str = "LLM config YAML (the keys --set takes).",
    set_flag: bool = True,
    set_help: str = "Override a setting: --set key=value (repeatable); flags win over it.",
    model_short: str | None = None,
    cache_help: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the LLM options to a typer command; it receives them as `llm: LLMFlags`.

    `prefix` names them for a second LLM (`judge` -> --judge-model ...). `config_flag`
    spells the config file option and `set_flag` adds --set; a command whose config file and
    --set also hold its own settings (synth) says so in `config_help`/`set_help` and reads
    them from `llm.config`/`llm.sets` too."""
    flag = (lambda suffix: f"--{prefix}-{suffix}") if prefix else (lambda suffix: f"--{suffix}")
    param = (lambda name: f"{prefix}_{name}") if prefix else (lambda name: name)
    options: list[Option] = []
    for name, suffix, kind, help_text in _FIELDS:
        names = [flag(suffix)]
        if name == "model" and model_short:
            names.append(model_short)
        if name == "cache" and cache_help:
            help_text = cache_help
        extra = {"exists": True, "file_okay": False} if name == "local" else {}
        option = typer.Option(*names, help=help_text, show_default=False, **extra)
        options.append((param(name), Annotated[kind, option], None))
    no_cache = typer.Option(flag("no-cache"), help="Call the model every time (no cache, no resume).")
    options.append((param("no_cache"), Annotated[bool, no_cache], False))
    if config_flag:
        option = typer.Option(*config_flag, help=config_help, exists=True, dir_okay=False)
        options.append((param("config"), Annotated[Path | None, option], None))
    if set_flag:
        options.append(("sets", Annotated[list[str] | None, typer.Option("--set", help=set_help)],
                        None))
    field_of = {param(name): name for name, _, _, _ in _FIELDS}

    def collect(given: dict[str, Any]) -> LLMFlags:
        flags = LLMFlags(config=given.pop(param("config"), None),
                         sets=list(given.pop("sets", None) or []),
                         no_cache=bool(given.pop(param("no_cache"))), prefix=prefix)
        flags.fields = _flag_fields({field_of[p]: v for p, v in given.items()}, flag)
        return flags

    return add_options("llm", options, collect)


def _flag_fields(given: dict[str, Any], flag: Callable[[str], str]) -> dict[str, Any]:
    """LLMConfig fields set by flags; --local DIR means backend local with that model."""
    fields = {k: (str(v) if isinstance(v, Path) else v) for k, v in given.items() if v is not None}
    local = fields.pop("local", None)
    if local is not None:
        if "base_url" in fields:
            raise UsageError(f"give either {flag('local')} MODEL_DIR or {flag('base-url')}, not both")
        fields.update(backend="local", model=local)
    elif "base_url" in fields:
        fields["backend"] = "openai"
    return fields


def resolve_llm(
    flags: LLMFlags,
    *,
    file: Path | None = None,
    section: str | None = None,
    sets: Iterable[tuple[str, Any]] | None = None,
) -> Any:
    """The LLMConfig: default < config file < --set < explicit flag (see the module doc).

    `file` is the YAML holding the LLM settings (default: the command's LLM config option),
    `section` the key they sit under in it; `sets` the command's LLM overrides when its
    --set is shared with other settings."""
    from oshie import config as shared
    from oshie.errors import ConfigError
    from oshie.llm.config import load_llm_config

    if sets is None:
        sets = shared.parse_overrides(flags.sets, example="timeout=30")
    try:
        return load_llm_config(file or flags.config, [*sets, *flags.fields.items()],
                               section=section)
    except ConfigError as exc:
        if exc.field == "model" and "required" in exc.message.lower():
            raise UsageError("no model given", field="model", hint=(
                f"pass {flags.flag('model')} NAME with {flags.flag('base-url')} URL, "
                f"or {flags.flag('local')} MODEL_DIR")) from None
        raise


def split_llm_sets(
    pairs: Iterable[tuple[str, Any]], stage_fields: Iterable[str]
) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """(stage overrides, LLM overrides) of one --set list: `llm.timeout` or a bare LLMConfig
    field such as `timeout` or `device` goes to the LLM, anything else to the stage."""
    from oshie.llm.config import LLMConfig

    stage_keys = set(stage_fields)
    stage, llm = [], []
    for key, value in pairs:
        top = key.split(".", 1)[0]
        if top == "llm" and "." in key:
            llm.append((key.split(".", 1)[1], value))
        elif top in LLMConfig.model_fields and top not in stage_keys:
            llm.append((key, value))
        else:
            stage.append((key, value))
    return stage, llm


def key_value_table() -> Table:
    """A borderless two-column table: bold names on the left, values on the right."""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    return table
