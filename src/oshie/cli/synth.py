"""`oshie synth ...`: grow instruction data with an LLM. Parsing and printing only.

Every call is cached (a rerun or a resumed run pays nothing twice); outputs are JSONL with
provenance; dropped candidates go to OUT.rejected.jsonl with their reason.

Every command is declared with `@synth_command(name, reads=...)`, which registers it and
adds what all of them share: the input records, `--out`, sampling, the license guard and
the LLM options. The command declares only its own options, after its first parameter
`job: SynthJob`: the shared ones, which resolve the settings and run the stage.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from oshie.cli.common import (
    LLMFlags,
    Option,
    add_options,
    llm_options,
    resolve_llm,
    split_llm_sets,
)

SUMMARY = "Grow instruction data with an LLM: self-instruct, evol, magpie, screening."
app = typer.Typer(no_args_is_help=True)

# -- options shared by every command ---------------------------------------------------
In = Annotated[Path, typer.Argument(help="Input records (any supported file type/format).",
                                     exists=True, dir_okay=False)]
Out = Annotated[Path, typer.Option("--out", "-o", help="Output JSONL (resumed if it exists).")]
AllowRestricted = Annotated[bool, typer.Option(
    "--allow-restricted-license",
    help="Generate even with a model whose terms restrict training on its outputs "
    "(records are marked license_restricted: true).")]
LicenseList = Annotated[Path | None, typer.Option(
    help="Restricted-model list (glob | reason per line) [default: the shipped list].",
    exists=True, dir_okay=False)]
Temperature = Annotated[float | None, typer.Option(help="Sampling temperature.")]
Seed = Annotated[int | None, typer.Option(help="Base random seed.")]
# the LLM options, --config and --set of every synth command (stage and LLM settings alike)
_LLM_OPTIONS = llm_options(
    config_flag=("--config",),
    config_help="YAML file of stage settings (the keys --set takes) with the LLM settings under "
    "'llm:'; --set and options override it.",
    set_help="Override a stage or LLM setting: --set temperature=0.7, --set device=cpu "
    "(repeatable); explicit options win over it.",
    cache_help="SQLite call cache [default: OUT without .jsonl + .cache.sqlite].")


@dataclass
class SynthJob:
    """What every synth command shares (the stage it runs, its input records and --out, the
    sampling, license and LLM options) and how the command runs its stage with them."""

    stage: str
    inputs: Path | None
    out: Path
    llm: LLMFlags
    temperature: float | None = None
    seed: int | None = None
    allow_restricted_license: bool = False
    license_list: Path | None = None

    def settings(self, cls: type, **given: Any) -> tuple[Any, Any]:
        """(stage config, LLMConfig), each by the one precedence: file < --set < explicit
        option. `given` are the command's own options (None: not given)."""
        from oshie import config as shared

        path = self.llm.config
        pairs = shared.parse_overrides(self.llm.sets, example="temperature=0.7")
        stage_sets, llm_sets = split_llm_sets(pairs, cls.model_fields)
        data = shared.load_yaml(path) if path is not None else {}
        data.pop("llm", None)  # the LLM section, read by resolve_llm
        given.update(temperature=self.temperature, seed=self.seed)
        options = [(k, v) for k, v in given.items() if v is not None]
        overrides = stage_sets + options
        stage = shared.validate(cls, shared.apply_overrides(data, overrides), path=path,
                                overridden=[k for k, _ in overrides])
        return stage, resolve_llm(self.llm, file=path, section="llm", sets=llm_sets)

    def run(self, fn: Any, settings: tuple[Any, Any], **kw: Any) -> None:
        """Run the stage function `fn` (through `oshie.synth.api.run_stage`) with `settings`
        on the input records into --out, and print its summary."""
        from oshie.synth.api import run_stage

        config, llm = settings
        _print(run_stage(self.stage, fn, config, out=self.out, llm=llm, no_cache=self.llm.no_cache,
                         inputs=self.inputs, allow_restricted=self.allow_restricted_license,
                         license_list=self.license_list, **kw))


def synth_command(
    name: str, *, reads: str | None = None, sampling: bool = True, license_guard: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `oshie synth NAME` with the options every synth command shares.

    Before the command's own options come its input records, an argument named `reads` (none
    for a command that starts from nothing), and --out; after them --temperature and --seed
    (`sampling`), --allow-restricted-license (`license_guard`), --license-list, then the LLM
    options with --config and --set. The command receives them all as its first parameter,
    `job: SynthJob`, and declares only its own options after it."""
    first: list[Option] = [(reads, In, inspect.Parameter.empty)] if reads else []
    first.append(("out", Out, inspect.Parameter.empty))
    options: list[Option] = []
    if sampling:
        options += [("temperature", Temperature, None), ("seed", Seed, None)]
    if license_guard:
        options.append(("allow_restricted_license", AllowRestricted, False))
    options += [("license_list", LicenseList, None), ("llm", LLMFlags, None)]

    def collect(given: dict[str, Any]) -> SynthJob:
        inputs = given.pop(reads) if reads else None
        # without the guard (a command that makes no training text) any model may run
        return SynthJob(name, inputs, **{"allow_restricted_license": not license_guard, **given})

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        return app.command(name)(_LLM_OPTIONS(add_options("job", options, collect, first=first)(fn)))

    return decorate


def _print(summary: Any) -> None:
    from rich.table import Table

    from oshie.console import is_quiet, out

    if is_quiet():
        out.print(f"{summary.stage}: kept {summary.kept} -> {summary.out}")
        return
    table = Table(title=f"oshie synth {summary.stage}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("inputs", str(summary.inputs))
    table.add_row("generated", str(summary.generated))
    table.add_row("kept", str(summary.kept))
    for reason, n in sorted(summary.dropped.items(), key=lambda x: -x[1]):
        table.add_row(f"dropped: {reason}", str(n))
    table.add_row("LLM calls (new)", str(summary.llm_calls))
    table.add_row("cache hits", str(summary.cache_hits))
    if summary.resumed:
        table.add_row("resumed records", str(summary.resumed))
    if summary.license_restricted:
        table.add_row("license_restricted", "true")
    out.print(table)
    out.print(f"records:  {summary.out}\nrejected: {summary.rejected}\nmanifest: {summary.manifest}")



@synth_command("self-instruct", reads="seeds")
def self_instruct_cmd(
    job: SynthJob,
    target: Annotated[int | None, typer.Option(help="New instructions to keep [100].")] = None,
    per_prompt: Annotated[int | None, typer.Option(help="Instructions asked per prompt [8].")] = None,
    novelty_threshold: Annotated[float | None, typer.Option(
        help="Drop a candidate whose character ROUGE-L F vs the pool exceeds this [0.7].")] = None,
    blocklist: Annotated[Path | None, typer.Option(
        help="File of tasks a text model cannot do, one a line [shipped list].")] = None,
    template: Annotated[str | None, typer.Option(
        help="Prompt template name or .txt path [synth_self_instruct_v1].")] = None,
) -> None:
    """Human seed instructions -> new instructions (+ input/output), filtered for Japanese rules and character ROUGE-L novelty."""
    from oshie.synth.self_instruct import SelfInstructConfig, self_instruct

    job.run(self_instruct, job.settings(
        SelfInstructConfig, target=target, per_prompt=per_prompt, novelty_threshold=novelty_threshold,
        template=template, blocklist=str(blocklist) if blocklist else None))


@synth_command("evol", reads="instructions")
def evol_cmd(
    job: SynthJob,
    rounds: Annotated[int | None, typer.Option(help="Evolution rounds [1].")] = None,
    operations: Annotated[str | None, typer.Option(
        help="Comma-separated: constraints,deepen,concretize,reasoning,breadth [all].")] = None,
    template: Annotated[list[str] | None, typer.Option(
        help="Override an operation's template: OP=NAME_OR_PATH (repeatable).")] = None,
    answer: Annotated[bool, typer.Option(help="Answer each evolved instruction.")] = True,
) -> None:
    """Evol-Instruct: make instructions harder (in depth) or new in the same domain (in breadth); failed evolutions are eliminated."""
    from oshie.errors import UsageError
    from oshie.synth.evol import EvolConfig, evol

    templates = {}
    for item in template or []:
        op, sep, ref = item.partition("=")
        if not sep:
            raise UsageError(f"--template {item!r} is not OP=NAME_OR_PATH", field="template")
        templates[op.strip()] = ref.strip()
    job.run(evol, job.settings(
        EvolConfig, rounds=rounds, answer=answer, templates=templates or None,
        operations=[o.strip() for o in operations.split(",")] if operations else None))


@synth_command("magpie")
def magpie_cmd(
    job: SynthJob,
    n: Annotated[int | None, typer.Option("--n", help="Queries to sample [100].")] = None,
    template_from: Annotated[Path | None, typer.Option(
        help="Model/tokenizer directory whose chat template gives the pre-query prefix "
        "(default: --local).", exists=True, file_okay=False)] = None,
    pre_query: Annotated[str | None, typer.Option(
        help="The raw prefix to send instead, e.g. '<|im_start|>user\\n'.")] = None,
    stop: Annotated[list[str] | None, typer.Option(help="Stop string(s) for queries.")] = None,
    system: Annotated[str | None, typer.Option(help="System prompt before the user turn.")] = None,
    answer: Annotated[bool, typer.Option(help="Answer each kept query.")] = True,
) -> None:
    """Magpie: draw queries out of an aligned model by sending only the pre-query part of its chat template, then answer them."""
    from oshie.synth.magpie import MagpieConfig, magpie

    if pre_query is not None:
        pre_query = pre_query.encode("utf-8").decode("unicode_escape").encode(
            "latin-1").decode("utf-8")  # let '\n' typed in a shell mean a newline
    cfg = job.settings(MagpieConfig, n=n, pre_query=pre_query, stop=stop, system=system,
                       answer=answer)
    job.run(magpie, cfg,
            model_dir=template_from or (cfg[1].model if cfg[1].backend == "local" else None))


@synth_command("respond", reads="instructions")
def respond_cmd(
    job: SynthJob,
    n: Annotated[int | None, typer.Option("--n", help="Answers per instruction [1].")] = None,
    system: Annotated[str | None, typer.Option(help="System prompt for records without one.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Longest answer in tokens [1024].")] = None,
    drop_refusals: Annotated[bool, typer.Option(help="Drop short refusals.")] = False,
) -> None:
    """Answer instructions: n sampled answers each (each sample is its own cache entry)."""
    from oshie.synth.respond import RespondConfig, respond

    job.run(respond, job.settings(RespondConfig, n=n, system=system, max_tokens=max_tokens,
                                  drop_refusals=drop_refusals or None))


@synth_command("extend", reads="conversations")
def extend_cmd(
    job: SynthJob,
    turns: Annotated[int | None, typer.Option(help="Most turns added per conversation [2].")] = None,
    template: Annotated[str | None, typer.Option(
        help="Simulated-user prompt name or path [synth_extend_user_v1].")] = None,
) -> None:
    """Multi-turn amplification: an LLM plays the user and asks follow-ups until it says [終了] or the turn limit is reached; the assistant answers each."""
    from oshie.synth.extend import ExtendConfig, extend

    job.run(extend, job.settings(ExtendConfig, turns=turns, template=template))


@synth_command("screen", reads="records", sampling=False, license_guard=False)
def screen_cmd(
    job: SynthJob,
    keep: Annotated[str | None, typer.Option(
        help="Keep-expression over the tags input_quality, difficulty, category, safety, "
        "quality, e.g. \"quality>=4 and safety=='safe'\" [keep all].")] = None,
    template: Annotated[str | None, typer.Option(
        help="Judge prompt name or path [synth_screen_v1].")] = None,
) -> None:
    """LLM-judge tags per record (JSON, parsed robustly), kept or set aside by --keep."""
    from oshie.synth.screen import ScreenConfig, screen

    # screening only tags records: it makes no training text, so no license guard (above)
    job.run(screen, job.settings(ScreenConfig, keep=keep, template=template))


@synth_command("preference", reads="prompts")
def preference_cmd(
    job: SynthJob,
    n: Annotated[int | None, typer.Option("--n", help="Answers sampled per prompt [4].")] = None,
    judge_model: Annotated[str | None, typer.Option(
        help="Judge model on the same server [the generator].")] = None,
    min_margin: Annotated[float | None, typer.Option(
        help="Least score gap between chosen and rejected [1.0].")] = None,
) -> None:
    """Preference pairs: n sampled answers per prompt, each graded by a judge; best vs worst become (prompt, chosen, rejected) with their scores."""
    from oshie.synth.preference import PreferenceConfig, preference

    cfg = job.settings(PreferenceConfig, n=n, min_margin=min_margin)
    job.run(preference, cfg, judge_model=judge_model)
