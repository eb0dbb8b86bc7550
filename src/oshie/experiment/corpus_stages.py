"""A base model pre-trained on a corpus mixture, each corpus step one cached stage.

    base_models:
      - name: news-heavy
        build:
          mixture:
            generate: {n: 2000, sources: [news, web]}   # and/or inputs: [corpus/, more.jsonl]
            clean: {preset: swallow-v1, disable: [dup_ngrams]}   # `oshie corpus clean` settings
            dedup: {threshold: 0.7}                      # `oshie corpus dedup` settings
            ratios: {news: 0.8, web: 0.2}                # token shares, as `oshie corpus mix -t`
          vocab_size: 1500
          pretrain: {max_steps: 150}

The plan turns a mixture into `corpus-generate` -> `corpus-clean` -> `corpus-dedup` ->
`corpus-mix` stages (each only when asked for) that call the functions `oshie corpus` calls,
and the base build (tokenizer, and pre-training unless it names its own corpus) reads the
mix. Stages that two base models would run identically (same inputs, settings and upstream,
e.g. cleaning the same files before two different mixes) are one stage, named after every
model that uses it. Each stage keeps the corpus step's own output under `corpus/` (kept,
rejected with reasons, quarantine, `manifest.json` with counts and the mix's requested vs
achieved shares); a killed step resumes shard by shard.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oshie.experiment.cache import Stage, StageOutput, Upstream
from oshie.records import stable_hash

if TYPE_CHECKING:  # config and plan import this module
    from oshie.experiment.config import ExperimentConfig
    from oshie.experiment.plan import Plan
    from oshie.experiment.report import ResultRow

OUT = "corpus"  # a step's output directory inside its stage directory
CORPUS = "corpus"  # the stage output naming the documents the next stage reads
_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GenerateSpec(_Strict):
    """Generated Japanese documents (`oshie corpus generate`: about half carry a planted
    defect), so a mixture experiment runs offline without a downloaded corpus."""

    n: int = Field(1000, gt=0)  # documents per source
    sources: list[str] = Field(default_factory=lambda: ["web", "news"], min_length=1)
    seed: int = 0

    @field_validator("sources")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if not _SOURCE.match(s)]
        if bad or len(set(value)) != len(value):
            raise ValueError("sources must be distinct names of letters, digits, '-', '_' or '.'")
        return value


def _check(section: str, build: Callable[[], Any]) -> None:
    """A corpus step's own config validation, its errors named from the mixture section."""
    from pydantic import ValidationError

    from oshie.errors import OshieError

    try:
        build()
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [] if section == "ratios" else [str(x) for x in first["loc"]]
        msg = "unknown key" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
        raise ValueError(f"{'.'.join([section, *loc])}: {msg}") from None
    except OshieError as exc:
        raise ValueError(f"{section}: {exc}") from None


class MixtureSpec(_Strict):
    """A pre-training corpus: inputs, optional cleaning and dedup, then a mix by token shares."""

    inputs: list[str] = Field(default_factory=list)  # corpus files or directories (`oshie:` allowed)
    generate: GenerateSpec | None = None
    text_field: str = "text"  # JSONL key / Parquet column of the inputs
    clean: dict[str, Any] | None = None  # CleanConfig fields (as `oshie corpus clean --config`)
    dedup: dict[str, Any] | None = None  # CorpusDedupConfig fields (as `oshie corpus dedup --config`)
    ratios: dict[str, float]  # group -> share of tokens (as `oshie corpus mix -t group=share`)
    by: Literal["source", "lang"] = "source"
    total_tokens: int | None = Field(None, gt=0)
    max_repeat: float = Field(1.0, ge=1.0)
    seed: int = 0  # sampling seed of the mix
    format: Literal["parquet", "jsonl"] = "parquet"  # shards between steps (the mix writes JSONL)
    workers: int | None = Field(None, gt=0)  # local processes per step (default: CPU count)

    @model_validator(mode="after")
    def _valid(self) -> MixtureSpec:
        from oshie.corpus.dedup import CorpusDedupConfig
        from oshie.corpus.presets import CleanConfig

        if not self.inputs and self.generate is None:
            raise ValueError("a mixture needs 'inputs', 'generate' or both")
        # bad step settings fail at load time, not after an hour of cleaning
        _check("clean", lambda: self.clean is None or CleanConfig.model_validate(self.clean))
        _check("dedup", lambda: self.dedup is None or CorpusDedupConfig.model_validate(self.dedup).chosen_bands())
        _check("ratios", self.mix_config)
        return self

    def mix_config(self) -> Any:
        from oshie.corpus.mix import MixConfig

        return MixConfig(targets=self.ratios, by=self.by, total_tokens=self.total_tokens,
                         max_repeat=self.max_repeat, seed=self.seed)

    def resolve(self, resolve_path: Callable[[str], str]) -> None:
        """Input paths and the files named by the clean settings, resolved like every path of
        the experiment file."""
        self.inputs = [resolve_path(p) for p in self.inputs]
        if self.clean:
            if self.clean.get("classifier"):
                self.clean["classifier"] = resolve_path(str(self.clean["classifier"]))
            ng = self.clean.get("ng_words") or {}
            if ng.get("extra_files"):
                ng["extra_files"] = [resolve_path(str(p)) for p in ng["extra_files"]]


# --- planning ------------------------------------------------------------------------------


def _clean_keyed(clean: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean settings as the stage key sees them (files by content, among the stage's files)."""
    from oshie.experiment.plan import FILE_INPUT  # plan imports this module: import late

    params = dict(clean)
    files: dict[str, str] = {}
    if clean.get("classifier"):
        files["classifier"] = clean["classifier"]
        params["classifier"] = FILE_INPUT
    extra = (clean.get("ng_words") or {}).get("extra_files") or []
    if extra:
        files.update({f"ng_words[{i}]": p for i, p in enumerate(extra)})
        params["ng_words"] = {**clean["ng_words"], "extra_files": [FILE_INPUT] * len(extra)}
    return params, files


def _chain(model: str, spec: MixtureSpec) -> list[Stage]:
    """One model's corpus steps, each depending on the one before."""
    runtime = {"workers": spec.workers}
    stages: list[Stage] = []
    if spec.generate:
        stages.append(Stage(f"corpus-generate/{model}", "corpus-generate",
                            spec.generate.model_dump(mode="json")))
    steps = [("corpus-clean", spec.clean), ("corpus-dedup", spec.dedup),
             ("corpus-mix", spec.mix_config().model_dump(mode="json"))]
    for kind, settings in steps:
        if settings is None:
            continue
        first = not any(s.kind != "corpus-generate" for s in stages)  # reads the named inputs
        files = {f"input[{i}]": p for i, p in enumerate(spec.inputs)} if first else {}
        if kind == "corpus-clean":
            settings, named = _clean_keyed(settings)
            files.update(named)
        stages.append(Stage(f"{kind}/{model}", kind,
                            {"settings": settings, "format": spec.format,
                             "text_field": spec.text_field if first else "text"},
                            deps=[stages[-1].id] if stages else [], files=files, runtime=runtime))
    return stages


def corpus_stages(config: ExperimentConfig) -> tuple[list[Stage], dict[str, str]]:
    """The corpus stages of every base model built from a mixture, identical ones merged, and
    model name -> the id of its mix stage."""
    groups: dict[str, tuple[Stage, list[str]]] = {}  # identity -> (stage, models using it)
    alias: dict[str, str] = {}  # a model's own stage id -> the id of the stage standing for it
    ends: dict[str, str] = {}
    for m in config.base_models:
        if not (m.build and m.build.mixture):
            continue
        for s in _chain(m.name, m.build.mixture):
            s.deps = [alias[d] for d in s.deps]
            ident = stable_hash({"kind": s.kind, "params": s.params, "files": s.files, "deps": s.deps})
            stage, models = groups.setdefault(ident, (s, []))
            models.append(m.name)
            alias[s.id] = stage.id
            ends[m.name] = stage.id
    final = {stage.id: f"{stage.kind}/{'+'.join(models)}" for stage, models in groups.values()}
    stages = []
    for stage, _ in groups.values():
        stage.id, stage.deps = final[stage.id], [final[d] for d in stage.deps]
        stages.append(stage)
    return stages, {name: final[sid] for name, sid in ends.items()}


# --- running -------------------------------------------------------------------------------


def mixed_corpus(upstream: Upstream) -> list[str]:
    """The mix a base build reads (none when the base names its corpus files)."""
    return [str(o.path(CORPUS)) for sid, o in upstream.items() if sid.startswith("corpus-mix/")]


def _inputs(stage: Stage, upstream: Upstream) -> list[Path]:
    named = [Path(p) for k, p in stage.files.items() if k.startswith("input[")]
    return named + [o.path(CORPUS) for o in upstream.values()]


def _opts(stage: Stage) -> Any:
    from oshie.corpus.run import EngineOptions

    return EngineOptions(workers=stage.runtime.get("workers"))


def _step_outputs(result: Any, **extra: Any) -> dict[str, Any]:
    return {CORPUS: f"{OUT}/kept", "manifest": f"{OUT}/manifest.json", "totals": result.totals, **extra}


def run_generate(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    from oshie.corpus.synthetic import write_sources

    p = stage.params
    shutil.rmtree(stage_dir / OUT, ignore_errors=True)  # generated again whole: it is seeded
    written = write_sources(stage_dir / OUT, p["n"], p["sources"], p["seed"])
    return {CORPUS: OUT, "documents": {s: p["n"] for s in written}}


def run_clean_step(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    from oshie.corpus.clean import run_clean
    from oshie.corpus.presets import CleanConfig

    settings = dict(stage.params["settings"])
    if "classifier" in stage.files:  # the stage's own (hashed) copy of the path
        settings["classifier"] = stage.files["classifier"]
    extra = [p for k, p in stage.files.items() if k.startswith("ng_words[")]
    if extra:
        settings["ng_words"] = {**settings["ng_words"], "extra_files": extra}
    result = run_clean(_inputs(stage, upstream), stage_dir / OUT, CleanConfig.model_validate(settings),
                       text_field=stage.params["text_field"], fmt=stage.params["format"], opts=_opts(stage))
    return _step_outputs(result)


def run_dedup_step(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    from oshie.corpus.dedup import CorpusDedupConfig, run_dedup

    cfg = CorpusDedupConfig.model_validate(stage.params["settings"])
    result = run_dedup(_inputs(stage, upstream), stage_dir / OUT, cfg,
                       text_field=stage.params["text_field"], fmt=stage.params["format"], opts=_opts(stage))
    return _step_outputs(result, dedup=result.extra["dedup"])


def run_mix_step(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    from oshie.corpus.mix import MixConfig, run_mix

    cfg = MixConfig.model_validate(stage.params["settings"])
    # JSONL: the base build's tokenizer and pre-training read JSONL and text files
    result = run_mix(_inputs(stage, upstream), stage_dir / OUT, cfg,
                     text_field=stage.params["text_field"], fmt="jsonl", opts=_opts(stage))
    return _step_outputs(result)


CORPUS_ADAPTERS = {
    "corpus-generate": run_generate,
    "corpus-clean": run_clean_step,
    "corpus-dedup": run_dedup_step,
    "corpus-mix": run_mix_step,
}


# --- report --------------------------------------------------------------------------------


def mixture_summary(plan: Plan, finished: dict[str, StageOutput], rows: list[ResultRow],
                    names: list[str]) -> list[dict[str, Any]]:
    """Per base model built from a mixture: requested vs achieved shares (from the mix's
    manifest), documents through each step, and each evaluated row's scores (the `names`
    metrics of the results table)."""
    summary = []
    for stage in plan.stages:
        if stage.kind != "base":
            continue
        mix_id = next((d for d in stage.deps if d.startswith("corpus-mix/")), None)
        if mix_id is None:
            continue
        model = stage.id.split("/", 1)[1]
        manifest = json.loads(finished[mix_id].path("manifest").read_text("utf-8"))
        steps = []
        sid: str | None = mix_id
        while sid:  # back up the chain: mix, dedup, clean, generate
            s = plan.by_id[sid]
            totals = finished[sid].outputs.get("totals")
            if totals:
                steps.insert(0, {"step": s.kind.removeprefix("corpus-"), "stage": sid,
                                 "models": sid.split("/", 1)[1].split("+"), **totals})
            sid = s.deps[0] if s.deps else None
        summary.append({
            "model": model,
            "stage": mix_id,
            "by": manifest["mix"]["by"],
            "tokenizer": manifest["mix"]["tokenizer"],
            "total_tokens": manifest["mix"]["total_tokens"],
            "groups": manifest["mix"]["groups"],
            "steps": steps,
            "scores": {r.variant: {n: r.metrics[n]["value"] for n in names if n in r.metrics}
                       for r in rows if r.model == model},
        })
    return summary
