"""Run a synthesis stage end to end: inputs, LLM (through the cache), license guard, outputs.

    run_stage("respond", respond, RespondConfig(n=2), out="out.jsonl",
              llm=LLMConfig(base_url="http://127.0.0.1:8000/v1", model="m"), inputs="in.jsonl")

The CLI is a thin layer over this; experiments call it directly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from oshie.console import warn
from oshie.errors import UsageError
from oshie.llm.base import LLM
from oshie.llm.config import LLMConfig
from oshie.paths import exclusive_lock, guard_outputs
from oshie.records import Conversation, PreferencePair
from oshie.synth.license import check_models, load_rules
from oshie.synth.output import lock_path, manifest_path, rejected_path
from oshie.synth.run import Summary, SynthRun


def default_cache_path(out: str | Path) -> Path:
    p = Path(out)
    return p.with_name(p.name.removesuffix(".jsonl") + ".cache.sqlite")


def with_cache(config: LLMConfig, out: str | Path, no_cache: bool = False) -> LLMConfig:
    """The config with its cache: the one given, else `OUT.cache.sqlite` beside the output
    (synthesis always resumes), or none with `no_cache`."""
    if config.backend == "local" and not Path(config.model).is_dir():
        raise UsageError(f"{config.model}: no such model directory", field="local")
    cache = None if no_cache else str(config.cache or default_cache_path(out))
    return config.model_copy(update={"cache": cache})


def build(config: LLMConfig) -> LLM:
    from oshie.llm.config import build_llm

    return build_llm(config)


def load_inputs(path: str | Path) -> list[Conversation]:
    """Records of any supported file, answers optional; preference pairs become their
    prompt conversations.

    Synthesis takes instructions without answers, which training reads reject: a `.txt`
    file (one instruction a line), chats ending with the user, alpaca/ichikara rows
    without `output`, `prompt`-only rows (see `oshie.data.io`, `require_answer=False`).
    """
    from oshie.data.io import load_records

    out = []
    for rec in load_records(path, require_answer=False):
        if isinstance(rec, PreferencePair):
            rec = Conversation(id=rec.id, system=rec.system, messages=rec.prompt,
                               metadata=rec.metadata)
        out.append(rec)
    return out


def run_stage(
    stage: str,
    fn: Callable[..., None],
    config: BaseModel,
    *,
    out: str | Path,
    llm: LLMConfig,
    no_cache: bool = False,
    inputs: str | Path | None = None,
    allow_restricted: bool = False,
    license_list: str | Path | None = None,
    judge_model: str | None = None,
    judge_llm: LLMConfig | None = None,
    **kwargs: Any,
) -> Summary:
    """Load inputs, guard the license, run `fn(records, run, config)` (or `fn(run, config)`
    when there are no inputs), and return the summary.

    The judge (of `preference`) is the generator's endpoint asked for `judge_model`, or a
    connection of its own (`judge_llm`: e.g. an HTTP judge grading a local model's samples,
    cached in its own `cache` file)."""
    out = Path(out)
    if out.suffix != ".jsonl":
        raise UsageError(f"{out}: the output must be a .jsonl file", field="out")
    gen_cfg = with_cache(llm, out, no_cache)
    local_model = gen_cfg.model if gen_cfg.backend == "local" else None
    guard_outputs([out, rejected_path(out), manifest_path(out), lock_path(out), gen_cfg.cache],
                  [inputs, license_list, local_model], option="--out")
    # two runs on one output would race on its files: the second stops here, before any work
    with exclusive_lock(lock_path(out), f"another synthesis run is writing {out}", path=out,
                        hint="wait for it to finish (a rerun resumes from the cache), or pass a different --out"):
        return _run_locked(stage, fn, config, out, gen_cfg, inputs, allow_restricted,
                           license_list, judge_model, judge_llm, **kwargs)


def _run_locked(stage: str, fn: Callable[..., None], config: BaseModel, out: Path, gen_cfg: LLMConfig,
                inputs: str | Path | None, allow_restricted: bool,
                license_list: str | Path | None, judge_model: str | None,
                judge_llm: LLMConfig | None, **kwargs: Any) -> Summary:
    models = {"generator": _license_name(gen_cfg)}
    judge_cfg = gen_cfg.model_copy(update={"model": judge_model}) if judge_model else judge_llm
    if judge_cfg is not None:
        models["judge"] = _license_name(judge_cfg)
    restricted = check_models(models, load_rules(license_list), allow_restricted)
    if restricted:
        warn("a model on the restricted-license list is in use: records are marked "
             "license_restricted: true")
    if gen_cfg.cache is None:
        warn("no cache: an interrupted run will pay for its calls again")
    records = load_inputs(inputs) if inputs is not None else None
    generator = build(gen_cfg)
    judge = build(judge_cfg) if judge_cfg is not None else None
    manifest_config = {"stage": config.model_dump(mode="json"),
                       "llm": gen_cfg.model_dump(mode="json", exclude={"api_key_env"}),
                       "judge_model": judge_cfg.model if judge_cfg is not None else None}
    try:
        with SynthRun(stage, out, generator, config=manifest_config,
                      license_restricted=restricted,
                      inputs={"records": inputs} if inputs is not None else None) as run:
            if judge is not None:
                kwargs["judge"] = judge
            if records is None:
                fn(run, config, **kwargs)
            else:
                fn(records, run, config, **kwargs)
            return run.finish()
    finally:
        generator.close()
        if judge is not None:
            judge.close()


def _license_name(cfg: LLMConfig) -> str:
    return Path(cfg.model).name if cfg.backend == "local" else cfg.model
