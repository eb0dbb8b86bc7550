"""A data variant produced by a synthesis chain, each step one cached stage.

    variants:
      - name: synth
        synthesis:
          seeds: seeds.jsonl                   # human-written instructions (magpie needs none)
          llm: {base_url: http://127.0.0.1:8000/v1, model: my-model}   # or {backend: local, model: DIR}
          steps:
            - {step: self_instruct, settings: {target: 200}}
            - {step: respond}
            - {step: screen, settings: {keep: "quality >= 3"}}
        filter: {passed_audit: true}           # the audit filter, as for any variant

Each step calls the synth package's public entry (`oshie.synth.api.run_stage`, the same one
the CLI calls) with the previous step's records as its input. A step's stage directory
holds `records.jsonl` and the SQLite cache of its LLM calls, which the runner never clears:
a run killed mid-synthesis resumes from the cache and pays for no finished call.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from oshie.experiment.cache import Stage, Upstream

RECORDS = "records.jsonl"
# step name -> (module, function, config class, whether it reads the previous records)
STEPS: dict[str, tuple[str, str, str, bool]] = {
    "self_instruct": ("oshie.synth.self_instruct", "self_instruct", "SelfInstructConfig", True),
    "evol": ("oshie.synth.evol", "evol", "EvolConfig", True),
    "magpie": ("oshie.synth.magpie", "magpie", "MagpieConfig", False),
    "respond": ("oshie.synth.respond", "respond", "RespondConfig", True),
    "screen": ("oshie.synth.screen", "screen", "ScreenConfig", True),
    "extend": ("oshie.synth.extend", "extend", "ExtendConfig", True),  # multi-turn follow-ups
}


def step_config(step: str, settings: dict[str, Any]) -> Any:
    """The synth pipeline's own config from a step's settings (unknown keys are errors)."""
    module, _, cls, _ = STEPS[step]
    return getattr(importlib.import_module(module), cls).model_validate(settings)


def run_synth(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    """One synthesis step: records in (the previous step's, or the seed file), records out."""
    from oshie.llm.config import LLMConfig
    from oshie.synth.api import run_stage

    step = stage.params["step"]
    module, fn_name, _, reads_inputs = STEPS[step]
    fn = getattr(importlib.import_module(module), fn_name)
    config = step_config(step, stage.params["settings"])
    llm = LLMConfig.model_validate(stage.runtime["llm"])
    previous = [o for sid, o in upstream.items() if sid.startswith("synth/")]
    inputs: str | None = None
    if reads_inputs:
        inputs = str(previous[0].path("records")) if previous else stage.files.get("seeds")
    if reads_inputs and inputs and Path(inputs).stat().st_size == 0:
        # the step before kept nothing (e.g. every candidate filtered): nothing to ask for
        from oshie.console import warn

        warn(f"{stage.id}: the previous step kept no records; this step has nothing to do")
        (stage_dir / RECORDS).write_text("", encoding="utf-8")
        return {"records": RECORDS, "kept": 0, "generated": 0, "llm_calls": 0}
    extra: dict[str, Any] = {}
    if step == "magpie" and llm.backend == "local":
        extra["model_dir"] = llm.model
    summary = run_stage(step, fn, config, out=stage_dir / RECORDS, llm=llm, inputs=inputs, **extra)
    return {
        "records": RECORDS,
        "kept": summary.kept,
        "generated": summary.generated,
        "llm_calls": summary.llm_calls,
    }


def synth_stages(variant: Any, seed: int) -> list[Stage]:
    """The chain of a variant's synthesis steps, each depending on the one before."""
    spec = variant.synthesis
    # what identifies the generator's answers: never the cache file or the concurrency
    llm_key = {k: v for k, v in spec.llm.items() if k not in ("cache", "concurrency")}
    stages: list[Stage] = []
    for i, s in enumerate(spec.steps):
        files = {"seeds": spec.seeds} if i == 0 and spec.seeds else {}
        stages.append(
            Stage(
                f"synth/{variant.name}/{i}-{s.step}",
                "synth",
                {"step": s.step, "settings": s.settings, "llm": llm_key, "seed": seed},
                deps=[stages[-1].id] if stages else [],
                files=files,
                runtime={"llm": spec.llm},
            )
        )
    return stages
