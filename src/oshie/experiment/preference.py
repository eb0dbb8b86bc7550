"""Preference pairs from the tuned model's own candidates, for DPO after SFT.

    recipe:
      sft: {max_steps: 200}
      preference:                    # prefs/<model>/<variant>, between SFT and DPO
        samples: 4                   # answers the SFT model samples per prompt
        max_new_tokens: 256
        temperature: 0.8
        judge: {base_url: http://127.0.0.1:8000/v1, model: judge}   # or {backend: local, model: DIR}
        prompts: prompts.jsonl       # omit: the prompts of the variant's own training data
      dpo: {settings: {beta: 0.1, max_steps: 100}}   # trains on the pairs (plus any datasets)

The SFT model of each variant answers every prompt `samples` times (local backend, seeded:
sample k uses seed + k), a judge grades each answer on its own, and the best and the
worst answer of a prompt become a chosen/rejected pair. That work is the synth package's
`preference` pipeline (`oshie.synth.api.run_stage`, the same entry the CLI calls); this
module only plans the stage and feeds it the SFT model and the prompts.

Both the samples and the judge's verdicts go through the SQLite LLM cache, kept in the
stage directory (or the judge's own `cache` file), which the runner never clears: a run
killed half-way, or rerun, pays for no finished call. Each pair's metadata names the
stage and fingerprint of the model that sampled it, every sample's index, seed, finish
reason, judge verdict and score; the stage's outputs count the samples by outcome. When
no pair can be formed the stage fails, naming the counts and what to change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oshie.experiment.cache import Stage, Upstream, only

PAIRS = "pairs.jsonl"
PROMPTS = "prompts.jsonl"  # the prompts asked, as the stage read them (after `limit`)
SAMPLE_CACHE = "samples.cache.sqlite"
JUDGE_CACHE = "judge.cache.sqlite"
# settings that change nothing in the pairs: never part of the stage key
_RUNTIME_LLM_KEYS = ("cache", "concurrency")


class PreferenceSettings(BaseModel):
    """`recipe.preference`: pairs from the SFT model's own samples, ranked by a judge."""

    model_config = ConfigDict(extra="forbid")

    judge: dict[str, Any] = Field(
        description="oshie.llm LLMConfig fields of the judge: an OpenAI-compatible endpoint "
        "({base_url, model, api_key_env}) or a local model directory ({backend: local, model})."
    )
    prompts: str | None = Field(
        None,
        description="Instructions to answer (any record file; answers in it are ignored). "
        "None: the prompts of the variant's own training data.",
    )
    limit: int | None = Field(None, gt=0, description="Only the first N prompts.")
    samples: int = Field(4, ge=2, description="Answers the SFT model samples per prompt.")
    max_new_tokens: int = Field(256, ge=1, description="Longest sampled answer, in tokens.")
    temperature: float = Field(0.8, gt=0, description="Sampling temperature of the answers.")
    unfinished: Literal["drop", "reject", "rank"] = Field(
        "reject",
        description="Answers cut off at max_new_tokens or with broken characters: 'reject' "
        "grades them and lets them be a pair's rejected answer, never its chosen one (the "
        "model's own failures are natural negatives, and DPO never learns them); 'drop' "
        "discards them before judging; 'rank' ranks them like finished answers.",
    )
    min_margin: float = Field(
        1.0, ge=0, description="Least judge-score gap (1-10 scale) between chosen and rejected."
    )
    judge_template: str = Field(
        "synth_preference_judge_v1", description="Judge prompt name (shipped) or file."
    )
    judge_max_tokens: int = Field(256, ge=1, description="Longest judge reply, in tokens.")
    batch_size: int = Field(8, ge=1, description="Prompts per sampling batch (speed only).")
    device: str = Field("auto", description="Torch device for sampling: auto, cpu, cuda...")

    @field_validator("judge")
    @classmethod
    def _valid_judge(cls, value: dict[str, Any]) -> dict[str, Any]:
        from oshie.llm.config import LLMConfig

        LLMConfig.model_validate(value)  # fail at load time, not after hours of training
        return value


def preference_stage(
    settings: PreferenceSettings, model: str, variant: str, sft_id: str, seed: int
) -> Stage:
    """The `prefs/<model>/<variant>` stage: after the SFT stage, before DPO."""
    params = settings.model_dump(mode="json", exclude={"judge", "prompts", "batch_size", "device"})
    params["judge"] = {k: v for k, v in settings.judge.items() if k not in _RUNTIME_LLM_KEYS}
    files = {"prompts": settings.prompts} if settings.prompts else {}
    if Path(settings.judge_template).is_absolute():
        files["judge_template"] = settings.judge_template
        params["judge_template"] = "<file>"
    return Stage(
        f"prefs/{model}/{variant}",
        "prefs",
        {**params, "seed": seed},
        # without a prompts file the variant's own training data is asked
        deps=[sft_id] + ([] if settings.prompts else [f"data/{variant}"]),
        files=files,
        runtime={
            "judge": settings.judge,
            "batch_size": settings.batch_size,
            "device": settings.device,
            "sft": sft_id,
        },
    )


def _prompts(stage: Stage, stage_dir: Path, upstream: Upstream) -> Path:
    """Write the prompts the stage asks (the file's or the variant's data, first `limit`)."""
    from oshie import jsonl
    from oshie.synth.api import load_inputs

    source = stage.files.get("prompts") or only(upstream, "data/").path("train")
    records = load_inputs(source)[: stage.params["limit"]]
    out = stage_dir / PROMPTS
    with jsonl.JsonlWriter(out) as fh:
        for rec in records:
            fh.write(rec.model_dump(mode="json", exclude_none=True))
    return out


def run_prefs(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    """Sample, judge and pair (see the module docstring); fails when no pair forms."""
    from oshie.console import info
    from oshie.errors import DataError
    from oshie.llm.config import LLMConfig
    from oshie.runs import fingerprint
    from oshie.synth.api import run_stage
    from oshie.synth.preference import PreferenceConfig, preference

    p, rt = stage.params, stage.runtime
    model = upstream[rt["sft"]].path("model")
    config = PreferenceConfig(
        n=p["samples"],
        temperature=p["temperature"],
        max_tokens=p["max_new_tokens"],
        seed=p["seed"],
        judge_template=stage.files.get("judge_template") or p["judge_template"],
        judge_max_tokens=p["judge_max_tokens"],
        min_margin=p["min_margin"],
        unfinished=p["unfinished"],
    )
    sampler = LLMConfig(
        backend="local",
        model=str(model),
        batch_size=rt["batch_size"],
        device=rt["device"],
        cache=str(stage_dir / SAMPLE_CACHE),
    )
    judge = LLMConfig.model_validate(
        {**rt["judge"], "cache": rt["judge"].get("cache") or str(stage_dir / JUDGE_CACHE)}
    )
    prompts = _prompts(stage, stage_dir, upstream)
    summary = run_stage(
        "preference",
        preference,
        config,
        out=stage_dir / PAIRS,
        llm=sampler,
        inputs=prompts,
        judge_llm=judge,
        provenance={"sampled_by": rt["sft"], "sampler_fingerprint": fingerprint(model)},
    )
    counts = {"prompts": summary.inputs, **summary.counts, "pairs": summary.kept}
    outcomes = ", ".join(f"{k.removeprefix('samples_')} {v}" for k, v in summary.counts.items())
    info(f"  preference: {summary.inputs} prompts x {p['samples']} samples ({outcomes}) "
         f"-> {summary.kept} pairs")
    if summary.kept == 0:
        tally = ", ".join(f"{k} {v}" for k, v in {**counts, **summary.dropped}.items())
        raise DataError(
            f"{stage.id}: no preference pair could be formed ({tally}); the reasons per "
            f"prompt are in {PAIRS.removesuffix('.jsonl')}.rejected.jsonl",
            path=stage_dir / PAIRS,
            field="recipe.preference",
            hint="cut-off samples (samples_truncated): raise max_new_tokens or train the SFT "
            "longer so it learns to stop; broken or untrainable text: lower temperature; "
            "no_finished_answer: the same, or let unfinished answers be chosen too "
            "(unfinished: rank); too_few_scored: the judge's replies did not parse (use a "
            "judge that follows its prompt); no_margin: raise samples or temperature, or "
            "lower min_margin",
        )
    return {
        "pairs": PAIRS,
        "rejected": f"{PAIRS.removesuffix('.jsonl')}.rejected.jsonl",
        "prompts": PROMPTS,
        "counts": counts,
        "dropped": summary.dropped,
        "sample_calls": summary.llm_calls,
        "sample_cache_hits": summary.cache_hits,
    }
