"""From an experiment config to a graph of stages, in an order where dependencies come first.

corpus-<step>/<models>  generate/clean/dedup/mix of a base's corpus mixture (optional; one
                        stage for the models whose step is identical)
base/<model>            tokenizer + random tiny model (or a local model directory)
pretrain/<model>        short causal-LM pass on raw text (optional)
synth/<variant>/<i>-<step>  one step of a variant's synthesis chain (optional)
audit/<variant>         quality audit of the variant's records
data/<variant>          mixed / filtered training file of the variant
sft/<model>/<variant>   SFT of the model on the variant
prefs/<model>/<variant> preference pairs from the SFT model's own samples, judge-ranked (optional)
dpo/<model>/<variant>   DPO after SFT (optional)
eval/<model>/<variant>  evaluation suite (variant "base": the untuned model)
judge/<model>/<variant> LLM-judge grading of the model's answers to ELYZA-style tasks (optional)
pairwise/<model>        every two rows' answers compared by the judge (win-rate matrix)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oshie.experiment.cache import Stage
from oshie.experiment.config import ExperimentConfig
from oshie.experiment.corpus_stages import corpus_stages
from oshie.experiment.preference import preference_stage
from oshie.experiment.synthesis import synth_stages

BASE_ROW = "base"
FILE_INPUT = "<file>"  # a setting whose value is a file among the stage's (hashed) inputs


@dataclass
class Row:
    """One line of the results table: a model tuned (or not) on a variant, and its eval stage."""

    model: str
    variant: str  # "base" for the untuned model
    eval_stage: str
    train_stage: str | None  # the SFT stage whose loss curve belongs to this row
    model_stage: str  # the stage whose output is the evaluated model


class Plan:
    def __init__(self, stages: list[Stage], rows: list[Row]) -> None:
        self.stages = stages
        self.by_id = {s.id: s for s in stages}
        self.rows = rows

    def compute_keys(self) -> None:
        keys: dict[str, str] = {}
        for stage in self.stages:  # already topologically ordered
            keys[stage.id] = stage.compute_key(keys)

    def dependants(self, stage_id: str) -> set[str]:
        out: set[str] = set()
        for s in self.stages:
            if stage_id in s.deps or out & set(s.deps):
                out.add(s.id)
        return out


def _model_stage(config: ExperimentConfig, model_name: str) -> str:
    spec = next(m for m in config.base_models if m.name == model_name)
    pretrain = spec.pretrain or (spec.build.pretrain if spec.build else None)
    return f"pretrain/{model_name}" if pretrain else f"base/{model_name}"


def _pretrain_stage(name: str, pre: Any, corpus: list[str], deps: list[str], seed: int) -> Stage:
    return Stage(
        f"pretrain/{name}",
        "pretrain",
        # unset options stay out of the key (old runs keep their cache)
        {**pre.model_dump(mode="json", exclude={"corpus"}, exclude_none=True), "seed": seed},
        deps=[f"base/{name}", *deps],
        files={f"corpus[{i}]": c for i, c in enumerate(corpus)},
    )


def build_plan(config: ExperimentConfig) -> Plan:
    stages, mixes = corpus_stages(config)
    seed = config.seed

    for m in config.base_models:
        if m.path:
            stages.append(
                Stage(f"base/{m.name}", "base", {"path": m.path}, files={"model": m.path})
            )
            if m.pretrain and m.pretrain.corpus:  # continued pre-training of a local model
                stages.append(_pretrain_stage(m.name, m.pretrain, m.pretrain.corpus, [], seed))
            continue
        assert m.build is not None
        # a mixture is in its corpus stages' keys, reached through the dependency
        build = m.build.model_dump(mode="json", exclude={"pretrain", "corpus", "mixture"})
        mix = [mixes[m.name]] if m.name in mixes else []
        stages.append(
            Stage(
                f"base/{m.name}",
                "base",
                {**build, "seed": seed},
                deps=mix,
                files={f"corpus[{i}]": c for i, c in enumerate(m.build.corpus)},
            )
        )
        if m.build.pretrain:
            pre = m.build.pretrain
            stages.append(
                _pretrain_stage(
                    m.name, pre, pre.corpus or m.build.corpus, [] if pre.corpus else mix, seed
                )
            )

    # evaluation files go in as contamination references: training on an eval item is a
    # finding (severity error), and a passed_audit filter drops it
    evals = {f"eval[{i}]": t.data for i, t in enumerate(config.eval.tasks)}
    for v in config.variants:
        files = {f"dataset[{i}]": d.path for i, d in enumerate(v.datasets)}
        datasets = [d.model_dump(mode="json", exclude={"path"}) for d in v.datasets]
        filtered = bool(v.filter and v.filter.passed_audit)
        synth = synth_stages(v, seed) if v.synthesis else []
        stages += synth
        made = [synth[-1].id] if synth else []  # the synthesized records join the files
        if config.audit or filtered:
            # content-addressed: variants reading the same files share one audit
            stages.append(
                Stage(
                    f"audit/{v.name}",
                    "audit",
                    {"datasets": datasets},
                    deps=made,
                    files={**files, **evals},
                )
            )
        stages.append(
            Stage(
                f"data/{v.name}",
                "data",
                {
                    "datasets": datasets,
                    "filter": v.filter.model_dump(mode="json") if v.filter else None,
                    "seed": seed,
                },
                deps=made,
                # a filtered variant asks the audit itself which records pass
                files={**files, **evals} if filtered else files,
            )
        )

    rows: list[Row] = []
    for m in config.base_models:
        model_stage = _model_stage(config, m.name)
        if config.eval.include_base:
            stages.append(_eval_stage(config, f"eval/{m.name}/{BASE_ROW}", model_stage))
            rows.append(Row(m.name, BASE_ROW, f"eval/{m.name}/{BASE_ROW}", None, model_stage))
        for v in config.variants:
            sft_id = f"sft/{m.name}/{v.name}"
            stages.append(
                Stage(
                    sft_id,
                    "sft",
                    {"settings": _keyed(config.recipe.sft), "seed": seed},
                    deps=[model_stage, f"data/{v.name}"],
                    files=_template_file(config.recipe.sft),
                )
            )
            tuned = sft_id
            if config.recipe.dpo:
                dpo = config.recipe.dpo
                tuned = f"dpo/{m.name}/{v.name}"
                deps = [sft_id]
                if config.recipe.preference:
                    stages.append(
                        preference_stage(config.recipe.preference, m.name, v.name, sft_id, seed)
                    )
                    deps.append(stages[-1].id)
                stages.append(
                    Stage(
                        tuned,
                        "dpo",
                        {
                            "settings": _keyed(dpo.settings),
                            "seed": seed,
                            "datasets": [
                                d.model_dump(mode="json", exclude={"path"}) for d in dpo.datasets
                            ],
                        },
                        deps=deps,
                        files={
                            **{f"dataset[{i}]": d.path for i, d in enumerate(dpo.datasets)},
                            **_template_file(dpo.settings),
                        },
                    )
                )
            stages.append(_eval_stage(config, f"eval/{m.name}/{v.name}", tuned))
            rows.append(Row(m.name, v.name, f"eval/{m.name}/{v.name}", sft_id, tuned))
        if config.eval.judge:
            stages += _judge_stages(config, m.name, [r for r in rows if r.model == m.name])
    plan = Plan(stages, rows)
    plan.compute_keys()
    return plan


def _template_file(settings: dict) -> dict[str, str]:
    """A recipe's chat-template file (already resolved against the YAML file), so editing
    it recomputes the tuning stage; a named choice (auto, chatml, model) is no file."""
    from oshie.experiment.config import TEMPLATE_CHOICES

    t = settings.get("template")
    return {"template": t} if isinstance(t, str) and t not in TEMPLATE_CHOICES else {}


def _keyed(settings: dict) -> dict:
    """Settings as the stage key sees them: a template file by its content (in the stage's
    files), not by where it lies, so moving the project keeps the cache."""
    if _template_file(settings):
        return {**settings, "template": FILE_INPUT}
    return settings


def _prompt_file(prompt: str | None) -> dict[str, str]:
    """A judge prompt given as a file (resolved against the YAML file) is an input of the
    judge stages; a shipped prompt name is versioned with oshie itself."""
    return {"prompt": prompt} if prompt and Path(prompt).is_absolute() else {}


def _judge_stages(config: ExperimentConfig, model: str, rows: list[Row]) -> list[Stage]:
    judge = config.eval.judge
    assert judge is not None
    # what identifies the judge's answers: never the cache file or the key itself
    llm = {k: v for k, v in judge.llm.items() if k not in ("cache", "concurrency")}
    params = {
        "llm": llm,
        "limit": judge.limit,
        "max_new_tokens": judge.max_new_tokens,
        "prompt": FILE_INPUT if _prompt_file(judge.prompt) else judge.prompt,
        "truncation": config.eval.truncation,
        "judge_max_tokens": judge.judge_max_tokens,
    }
    out = []
    for r in rows:
        out.append(
            Stage(
                f"judge/{model}/{r.variant}",
                "judge",
                {**params, "system": r.variant},
                deps=[r.model_stage],
                files={"tasks": judge.tasks, **_prompt_file(judge.prompt)},
                runtime={"llm": judge.llm},
            )
        )
    if judge.pairwise and len(rows) > 1:
        out.append(
            Stage(
                f"pairwise/{model}",
                "pairwise",
                {"llm": llm, "prompt": None, "judge_max_tokens": judge.judge_max_tokens},
                deps=[f"judge/{model}/{r.variant}" for r in rows],
                runtime={"llm": judge.llm},
            )
        )
    return out


def _eval_stage(config: ExperimentConfig, stage_id: str, model_stage: str) -> Stage:
    tasks = [t.model_dump(mode="json", exclude={"data", "train_data"}) for t in config.eval.tasks]
    files: dict[str, str] = {}
    for t in config.eval.tasks:
        key = t.name or t.task
        files[f"{key}.data"] = t.data
        if t.train_data:
            files[f"{key}.train_data"] = t.train_data
    return Stage(
        stage_id,
        "eval",
        {
            "tasks": tasks,
            "batch_size": config.eval.batch_size,
            "device": config.eval.device,
            "response_audit": config.eval.response_audit,
            "truncation": config.eval.truncation,
        },
        deps=[model_stage],
        files=files,
    )
