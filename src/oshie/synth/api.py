"""Run a synthesis stage end to end: inputs, LLM (through the cache), license guard, outputs.

    run_stage("respond", respond, RespondConfig(n=2), out="out.jsonl",
              llm=LLMOptions(base_url="http://127.0.0.1:8000/v1", model="m"), inputs="in.jsonl")

The CLI is a thin layer over this; experiments call it directly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oshie.console import warn
from oshie.errors import UsageError
from oshie.llm.base import LLM
from oshie.llm.config import LLMConfig, validate_llm_config
from oshie.paths import exclusive_lock, guard_outputs
from oshie.records import Conversation, PreferencePair
from oshie.synth.license import check_models, load_rules
from oshie.synth.output import lock_path, manifest_path, rejected_path
from oshie.synth.run import Summary, SynthRun


class LLMOptions(BaseModel):
    """Which model generates: an OpenAI-compatible server, or a local model directory."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(None, description="OpenAI-compatible server URL ending in /v1.")
    model: str | None = Field(None, description="Model name sent to the server.")
    api_key_env: str | None = Field("OPENAI_API_KEY", description="Variable holding the API key.")
    local: str | None = Field(None, description="Local model directory (instead of a server).")
    cache: str | None = Field(None, description="SQLite call cache; default: beside the output.")
    no_cache: bool = Field(False, description="Call the model every time (no resume).")
    concurrency: int = Field(8, ge=1, description="Requests in flight at once.")
    timeout: float = Field(60.0, gt=0, description="Seconds before one HTTP attempt gives up.")
    max_retries: int = Field(6, ge=0, description="Retries of a failed call.")
    backoff_base: float = Field(1.0, ge=0, description="First retry backoff in seconds.")
    batch_size: int = Field(8, ge=1, description="Local model: prompts per forward batch.")


def default_cache_path(out: str | Path) -> Path:
    p = Path(out)
    return p.with_name(p.name.removesuffix(".jsonl") + ".cache.sqlite")


def llm_config(opts: LLMOptions, out: str | Path, model: str | None = None) -> LLMConfig:
    """The LLMConfig these options describe (`model` overrides the server model name)."""
    if opts.local and opts.base_url:
        raise UsageError("give either --local MODEL_DIR or --base-url, not both")
    if opts.local:
        if not Path(opts.local).is_dir():
            raise UsageError(f"{opts.local}: no such model directory", field="local")
        data: dict[str, Any] = {"backend": "local", "model": opts.local,
                                "batch_size": opts.batch_size}
    else:
        name = model or opts.model
        if not name:
            raise UsageError("no model given", field="model",
                             hint="pass --model NAME with --base-url URL, or --local MODEL_DIR")
        data = {"backend": "openai", "base_url": opts.base_url, "model": name,
                "api_key_env": opts.api_key_env, "concurrency": opts.concurrency,
                "timeout": opts.timeout, "max_retries": opts.max_retries,
                "backoff_base": opts.backoff_base}
    data["cache"] = None if opts.no_cache else str(opts.cache or default_cache_path(out))
    return validate_llm_config(data)


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
    llm: LLMOptions,
    inputs: str | Path | None = None,
    allow_restricted: bool = False,
    license_list: str | Path | None = None,
    judge_model: str | None = None,
    **kwargs: Any,
) -> Summary:
    """Load inputs, guard the license, run `fn(records, run, config)` (or `fn(run, config)`
    when there are no inputs), and return the summary."""
    out = Path(out)
    if out.suffix != ".jsonl":
        raise UsageError(f"{out}: the output must be a .jsonl file", field="out")
    gen_cfg = llm_config(llm, out)
    guard_outputs([out, rejected_path(out), manifest_path(out), lock_path(out), gen_cfg.cache],
                  [inputs, license_list, llm.local], option="--out")
    # two runs on one output would race on its files: the second stops here, before any work
    with exclusive_lock(lock_path(out), f"another synthesis run is writing {out}", path=out,
                        hint="wait for it to finish (a rerun resumes from the cache), or pass a different --out"):
        return _run_locked(stage, fn, config, out, gen_cfg, llm, inputs, allow_restricted,
                           license_list, judge_model, **kwargs)


def _run_locked(stage: str, fn: Callable[..., None], config: BaseModel, out: Path, gen_cfg: LLMConfig,
                llm: LLMOptions, inputs: str | Path | None, allow_restricted: bool,
                license_list: str | Path | None, judge_model: str | None, **kwargs: Any) -> Summary:
    models = {"generator": _license_name(gen_cfg)}
    judge_cfg = llm_config(llm, out, model=judge_model) if judge_model else None
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
                       "judge_model": judge_model}
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
