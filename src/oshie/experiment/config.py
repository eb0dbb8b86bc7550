"""The experiment plan as a YAML file: base models x data variants x a recipe, then an eval suite.

    name: clean-vs-flawed
    base_models:
      - name: tiny
        build: {corpus: [oshie:corpus/ja_sample.txt], vocab_size: 2000, pretrain: {max_steps: 100}}
      # or: - {name: my-base, path: models/my-base}     (a local model directory)
      # or: build: {mixture: {inputs: [corpus/], clean: {}, ratios: {news: 0.8, web: 0.2}}}
      #     (a corpus mixture built by the experiment: see oshie.experiment.corpus_stages)
    variants:
      - {name: clean,  datasets: [{path: oshie:instructions/clean.jsonl}]}
      - {name: flawed, datasets: [{path: oshie:instructions/flawed.jsonl}]}
      - {name: flawed-audited, datasets: [{path: oshie:instructions/flawed.jsonl}],
         filter: {passed_audit: true}}
    recipe:
      sft: {learning_rate: 3e-3, max_steps: 60}       # any SFTConfig field but model/output_dir/datasets
    eval:
      tasks:
        - {task: jcommonsenseqa, data: oshie:evalsets/jcommonsenseqa/valid-v1.1.json}

Paths are relative to the YAML file; `oshie:` names a file shipped inside the package.
Unknown keys are errors naming the key; `--set key=value` overrides any field (dotted keys).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oshie import config as shared
from oshie.experiment.corpus_stages import MixtureSpec
from oshie.experiment.preference import PreferenceSettings
from oshie.train.config import RopeScaling

RESOURCE_PREFIX = "oshie:"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Named(_Strict):
    """A config part with a `name` that becomes part of stage ids and directory names."""

    name: str

    @field_validator("name")
    @classmethod
    def _usable_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"'{value}' is not a usable name: use letters, digits, '-', '_' or '.'")
        return value


class PretrainSettings(_Strict):
    """A short causal-LM pass on raw text so a freshly initialised base is not pure noise."""

    corpus: list[str] | None = None  # default: the build's corpus
    max_steps: int = Field(100, gt=0)
    learning_rate: float = Field(3e-3, gt=0)
    batch_size: int = Field(16, gt=0)
    max_length: int = Field(128, gt=8)  # tokens per packed block
    save_steps: int = Field(50, gt=0)  # checkpoint interval (an interrupted run resumes from it)
    # RoPE scaling for a longer context, e.g. {type: linear, factor: 2} (position
    # interpolation); max_length may then reach the new length (oshie.train CPTConfig)
    rope_scaling: RopeScaling | None = None
    max_position_embeddings: int | None = Field(None, gt=0)  # default: old x factor


class BuildSettings(_Strict):
    """Build a base from scratch: a byte-level BPE tokenizer and a random tiny Llama, on text
    files (`corpus`) or on a corpus mixture the experiment builds (oshie.experiment.corpus_stages)."""

    corpus: list[str] = Field(default_factory=lambda: ["oshie:corpus/ja_sample.txt"])
    mixture: MixtureSpec | None = None
    vocab_size: int = Field(2000, gt=300)
    preset: Literal["tiny", "small", "base"] = "tiny"
    model_overrides: dict[str, Any] = Field(default_factory=dict)  # e.g. {num_hidden_layers: 2}
    pretrain: PretrainSettings | None = None

    @model_validator(mode="after")
    def _one_corpus(self) -> BuildSettings:
        if self.mixture is not None:
            if "corpus" in self.model_fields_set and self.corpus:
                raise ValueError("give 'corpus' (text files) or 'mixture', not both")
            self.corpus = []
        return self


class BaseModelSpec(_Named):
    """One base model: a local directory (`path`) or a tiny model built here (`build`)."""

    path: str | None = None
    build: BuildSettings | None = None
    # continued pre-training of the local model at `path` (its `corpus` is required); a
    # built model takes it as `build.pretrain`
    pretrain: PretrainSettings | None = None

    @model_validator(mode="after")
    def _one_source(self) -> BaseModelSpec:
        if (self.path is None) == (self.build is None):
            raise ValueError(f"base model '{self.name}': give exactly one of 'path' or 'build'")
        if self.pretrain is not None and self.build is not None:
            raise ValueError(f"base model '{self.name}': a built model's pretrain goes in 'build.pretrain'")
        if self.pretrain is not None and not self.pretrain.corpus:
            raise ValueError(f"base model '{self.name}': 'pretrain.corpus' names the text to train on")
        return self


class DatasetRef(_Strict):
    """One file of a variant; `weight` repeats (2) or subsamples (0.5) its records."""

    path: str
    format: str | None = None  # None: auto-detect
    weight: float = Field(1.0, gt=0)


class VariantFilter(_Strict):
    """Keep only some records of a variant."""

    passed_audit: bool = False  # drop records with a quality-audit finding at/above `severity`
    severity: Literal["info", "warning", "error"] = "warning"
    checks: list[str] | None = None  # only these check codes count (None: every check)
    limit: int | None = Field(None, gt=0)  # first N records after filtering and mixing


class SynthStep(_Strict):
    """One step of a synthesis chain: a synth pipeline and the fields of its config."""

    step: Literal["self_instruct", "evol", "magpie", "respond", "screen", "extend"]
    settings: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _valid_settings(self) -> SynthStep:
        from oshie.experiment.synthesis import step_config

        step_config(self.step, self.settings)  # unknown or bad fields fail at load time
        return self


class SynthesisSpec(_Strict):
    """Records made by an LLM from seeds (see oshie.experiment.synthesis)."""

    seeds: str | None = None  # seed instructions (any record file); magpie needs none
    llm: dict[str, Any]  # oshie.llm LLMConfig fields: a local model dir or an endpoint
    steps: list[SynthStep] = Field(min_length=1)

    @field_validator("llm")
    @classmethod
    def _valid_llm(cls, value: dict[str, Any]) -> dict[str, Any]:
        from oshie.llm.config import LLMConfig

        LLMConfig.model_validate(value)
        return value


class VariantSpec(_Named):
    """One training-data variant: files (a mixture when several) and/or records made by a
    synthesis chain, optionally filtered."""

    datasets: list[DatasetRef] = Field(default_factory=list)
    synthesis: SynthesisSpec | None = None
    filter: VariantFilter | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _has_records(self) -> VariantSpec:
        if not self.datasets and self.synthesis is None:
            raise ValueError(f"variant '{self.name}': give 'datasets', 'synthesis' or both")
        return self


class DPORecipe(_Strict):
    """Optional DPO after SFT on preference pairs: these files and/or the pairs of
    `recipe.preference`; `settings` are DPOConfig fields."""

    datasets: list[DatasetRef] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict)


class Recipe(_Strict):
    """How each base model is tuned on each variant."""

    sft: dict[str, Any] = Field(default_factory=dict)  # SFTConfig fields (see oshie.train.config)
    # pairs from each SFT model's own samples, ranked by a judge (oshie.experiment.preference)
    preference: PreferenceSettings | None = None
    dpo: DPORecipe | None = None

    @model_validator(mode="after")
    def _pairs_have_a_use(self) -> Recipe:
        if self.preference is not None and self.dpo is None:
            raise ValueError("recipe.preference makes pairs for DPO: add 'dpo: {settings: {...}}'")
        if self.dpo is not None and not self.dpo.datasets and self.preference is None:
            raise ValueError("recipe.dpo needs pairs: give 'dpo.datasets', 'preference' or both")
        return self

    @field_validator("sft")
    @classmethod
    def _no_owned_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        owned = {"model", "output_dir", "datasets", "kind"} & set(value)
        if owned:
            raise ValueError(f"recipe.sft must not set {sorted(owned)}: the experiment sets them")
        return value


class TaskRef(_Strict):
    """One evaluation task (fields of oshie.eval TaskSpec)."""

    task: str
    data: str
    train_data: str | None = None
    shots: int | None = None
    limit: int | None = None
    template: str | None = None
    seed: int = 0
    max_new_tokens: int | None = None
    name: str | None = None


class JudgeSettings(_Strict):
    """An LLM judge: grades each model's answers to ELYZA-style tasks (1-5) and, with
    `pairwise`, compares every two models' answers in both orders (win-rate matrix)."""

    llm: dict[
        str, Any
    ]  # oshie.llm LLMConfig fields: backend, base_url, model, api_key_env, cache...
    tasks: str = "oshie:evalsets/elyza_tasks/test.csv"  # CSV/JSONL with input, output, eval_aspect
    limit: int | None = Field(None, gt=0)  # first N tasks
    max_new_tokens: int = Field(128, gt=0)  # answer length of the judged models
    prompt: str | None = None  # grading prompt name or file (None: the shipped default)
    judge_max_tokens: int = Field(512, gt=0)  # cap on each judge reply (grades and verdicts)
    pairwise: bool = True

    @field_validator("llm")
    @classmethod
    def _valid_llm(cls, value: dict[str, Any]) -> dict[str, Any]:
        from oshie.llm.config import LLMConfig

        LLMConfig.model_validate(value)  # fail at load time, not after hours of training
        return value


class EvalSettings(_Strict):
    tasks: list[TaskRef] = Field(min_length=1)
    include_base: bool = True  # evaluate each untuned base too (the row deltas are against it)
    batch_size: int = Field(8, gt=0)
    device: str = "cpu"  # torch device for scoring, e.g. cpu or cuda
    metrics: list[str] | None = None  # "task/metric" columns in the table (None: all)
    # run the data checks over every generated answer (defect rates, compared pairwise)
    response_audit: bool = True
    # an input longer than a model's window (eval tasks and judged answers): cut and counted
    # (left: lm-eval's rule; input: the item's input cut, instruction kept) or refused (error)
    truncation: Literal["left", "input", "error"] = "left"
    judge: JudgeSettings | None = None


class ExperimentConfig(_Named):
    description: str | None = None
    seed: int = 0
    audit: bool = True  # run the quality audit on every variant's records
    # torch CPU threads for every stage (None: torch's default). Tiny models gain nothing from
    # more threads, and on a busy machine spinning threads make them many times slower.
    threads: int | None = Field(None, gt=0)
    base_models: list[BaseModelSpec] = Field(min_length=1)
    variants: list[VariantSpec] = Field(min_length=1)
    recipe: Recipe = Field(default_factory=Recipe)
    eval: EvalSettings

    @model_validator(mode="after")
    def _unique_names(self) -> ExperimentConfig:
        for label, names in (
            ("base model", [m.name for m in self.base_models]),
            ("variant", [v.name for v in self.variants]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{label} names must be unique; repeated: {', '.join(dupes)}")
        if "base" in [v.name for v in self.variants]:
            raise ValueError("'base' is reserved for the untuned base model: rename the variant")
        return self


def resource_path(relative: str) -> Path:
    """A file shipped under oshie/resources/."""
    return Path(str(resources.files("oshie").joinpath("resources", relative)))


def resolve_path(value: str, base_dir: Path) -> str:
    """`oshie:x/y` -> the shipped file; relative paths -> relative to the YAML file."""
    if value.startswith(RESOURCE_PREFIX):
        return str(resource_path(value[len(RESOURCE_PREFIX) :]))
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else (base_dir / p))


TEMPLATE_CHOICES = ("auto", "chatml", "model")  # recipe template values that name no file


def _is_file_ref(value: str, base_dir: Path) -> bool:
    """A prompt/template value that names a file (not a shipped name): it exists next to
    the YAML file, or is written as a path."""
    return (
        value.startswith(RESOURCE_PREFIX)
        or (base_dir / value).is_file()
        or "/" in value
        or "\\" in value
        or value.endswith((".txt", ".jinja", ".j2"))
    )


def _resolve_llm(llm: dict[str, Any], base_dir: Path) -> None:
    """The files an LLM config names: its cache, and a local backend's model directory."""
    for key in ("cache",) + (("model",) if llm.get("backend") == "local" else ()):
        if llm.get(key):
            llm[key] = resolve_path(str(llm[key]), base_dir)


def _resolve_all(config: ExperimentConfig, base_dir: Path) -> ExperimentConfig:
    for m in config.base_models:
        if m.path:
            m.path = resolve_path(m.path, base_dir)
        if m.pretrain and m.pretrain.corpus:
            m.pretrain.corpus = [resolve_path(c, base_dir) for c in m.pretrain.corpus]
        if m.build:
            m.build.corpus = [resolve_path(c, base_dir) for c in m.build.corpus]
            if m.build.mixture:
                m.build.mixture.resolve(lambda p: resolve_path(p, base_dir))
            if m.build.pretrain and m.build.pretrain.corpus:
                m.build.pretrain.corpus = [
                    resolve_path(c, base_dir) for c in m.build.pretrain.corpus
                ]
    for v in config.variants:
        if v.synthesis:
            if v.synthesis.seeds:
                v.synthesis.seeds = resolve_path(v.synthesis.seeds, base_dir)
            _resolve_llm(v.synthesis.llm, base_dir)
    refs = [d for v in config.variants for d in v.datasets]
    if config.recipe.dpo:
        refs += config.recipe.dpo.datasets
    for d in refs:
        d.path = resolve_path(d.path, base_dir)
    if pref := config.recipe.preference:
        if pref.prompts:
            pref.prompts = resolve_path(pref.prompts, base_dir)
        _resolve_llm(pref.judge, base_dir)
        if _is_file_ref(pref.judge_template, base_dir):
            pref.judge_template = resolve_path(pref.judge_template, base_dir)
    # template files of the recipe are inputs of the tuning stages (content-hashed into
    # their keys), found relative to the YAML file like every other path in it
    tuning = [config.recipe.sft] + ([config.recipe.dpo.settings] if config.recipe.dpo else [])
    for settings in tuning:
        t = settings.get("template")
        if isinstance(t, str) and t not in TEMPLATE_CHOICES:
            settings["template"] = resolve_path(t, base_dir)
    if config.eval.judge:
        config.eval.judge.tasks = resolve_path(config.eval.judge.tasks, base_dir)
        prompt = config.eval.judge.prompt
        if prompt and _is_file_ref(prompt, base_dir):
            config.eval.judge.prompt = resolve_path(prompt, base_dir)
        _resolve_llm(config.eval.judge.llm, base_dir)
    for t in config.eval.tasks:
        t.data = resolve_path(t.data, base_dir)
        if t.train_data:
            t.train_data = resolve_path(t.train_data, base_dir)
    return config


def load_experiment(
    path: str | Path | dict[str, Any],
    overrides: shared.Overrides = None,
    base_dir: str | Path | None = None,
) -> ExperimentConfig:
    """Load, override and validate an experiment YAML (or dict); paths come back absolute."""
    source: Path | None = None
    if isinstance(path, dict):
        data = dict(path)
        root = Path(base_dir) if base_dir else Path.cwd()
    else:
        source = Path(path)
        data = shared.load_yaml(
            source, what="experiment file", hint="see examples/experiment.yaml for a starting point"
        )
        root = Path(base_dir) if base_dir else source.parent
    pairs = shared.as_pairs(overrides)
    data = shared.apply_overrides(data, pairs)
    config = shared.validate(ExperimentConfig, data, path=source, overridden=[k for k, _ in pairs])
    return _resolve_all(config, root.resolve())
