"""Thin adapters from a planned stage to the package that does the work.

Each adapter takes the stage, its directory and its finished upstream stages, writes its
outputs into the directory and returns what it produced (paths relative to the directory),
which the runner stores in the completion marker for the stages below it. Training stages
resume from their last checkpoint when the directory holds one from an interrupted run.
The evaluation adapters live in `eval_stages`, the corpus ones in `corpus_stages`, the
preference stage in `preference` and synthesis in `synthesis`; `ADAPTERS` lists them all.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oshie.console import info
from oshie.errors import ConfigError
from oshie.experiment.cache import Stage, Upstream, clear_unfinished, model_of, only
from oshie.experiment.corpus_stages import CORPUS_ADAPTERS, mixed_corpus
from oshie.experiment.eval_stages import run_eval_stage, run_judge, run_pairwise
from oshie.experiment.preference import run_prefs
from oshie.experiment.synthesis import run_synth
from oshie.jsonl import JsonlWriter
from oshie.runs import Manifest, write_json

Adapter = Callable[[Stage, Path, Upstream], dict[str, Any]]
TRAIN_DIR = "train"  # training stages: checkpoints, final model, log_history.jsonl


# --- base models -------------------------------------------------------------------------


def run_base(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    p = stage.params
    if "path" in p:  # a local model: nothing to build, the directory is the output
        from oshie.train.loading import check_model_dir

        check_model_dir(p["path"], field_name="base_models.path")
        return {"model": str(Path(p["path"]).resolve())}
    from oshie.train.corpus import read_texts
    from oshie.train.tiny import init_model
    from oshie.train.tokenizer import train_bpe_tokenizer

    clear_unfinished(stage_dir)
    texts = read_texts([*stage.files.values(), *mixed_corpus(upstream)])
    info(f"  tokenizer: byte-level BPE, vocab {p['vocab_size']}, {len(texts)} lines")
    tok_dir = train_bpe_tokenizer(
        texts, vocab_size=p["vocab_size"], out_dir=stage_dir / "tokenizer"
    )
    init_model(
        tok_dir, stage_dir / "model", preset=p["preset"], seed=p["seed"], **p["model_overrides"]
    )
    return {"model": "model", "tokenizer": "tokenizer"}


def _resume_flags(train_dir: Path, config: Any) -> dict[str, bool]:
    """Resume from the last complete checkpoint of an interrupted run, else start clean
    (also when the checkpoint already reached the end: resuming that would train nothing)."""
    from oshie.train.job import is_finished, last_checkpoint

    # a checkpoint cut short by a kill has no trainer_state.json: it cannot be resumed from
    for ckpt in train_dir.glob("checkpoint-*"):
        if ckpt.is_dir() and not (ckpt / "trainer_state.json").is_file():
            shutil.rmtree(ckpt)
    ckpt = last_checkpoint(train_dir)
    if ckpt is not None and not is_finished(config, ckpt):
        info(f"  resuming from {ckpt.name}")
        return {"resume": True}
    return {"overwrite": True}


def _train(train: Callable[..., Any], config: Any, train_dir: Path, *fields: str) -> dict[str, Any]:
    """Train (resuming an interrupted run); the stage outputs name the model and its log,
    plus the `fields` of the training result the stage records."""
    result = train(config, **_resume_flags(train_dir, config))
    return {
        "model": TRAIN_DIR,
        "log_history": f"{TRAIN_DIR}/log_history.jsonl",
        **{f: getattr(result, f) for f in fields},
    }


def _tuning_config(stage: Stage, kind: str, model: Path, train_dir: Path, datasets: list[dict[str, Any]]) -> Any:
    """An SFT or DPO config from the stage's recipe settings, its model and its data."""
    from oshie.train.config import load_train_config

    settings = {"seed": stage.params["seed"], **stage.params["settings"]}
    if "template" in stage.files:  # a template file: the stage's own (hashed) copy of the path
        settings["template"] = stage.files["template"]
    return load_train_config(
        {**settings, "model": str(model), "output_dir": str(train_dir), "datasets": datasets},
        kind=kind,
    )


def run_pretrain(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    from oshie.train.config import CPTConfig
    from oshie.train.cpt import train_cpt

    p = stage.params
    train_dir = stage_dir / TRAIN_DIR
    config = CPTConfig(
        model=str(model_of(upstream)),
        output_dir=str(train_dir),
        datasets=[{"path": c} for c in [*stage.files.values(), *mixed_corpus(upstream)]],
        max_steps=p["max_steps"],
        learning_rate=p["learning_rate"],
        batch_size=p["batch_size"],
        max_length=p["max_length"],
        save_steps=p["save_steps"],
        rope_scaling=p.get("rope_scaling"),
        max_position_embeddings=p.get("max_position_embeddings"),
        seed=p["seed"],
        lr_scheduler="cosine",
        warmup_ratio=0.05,
        save_total_limit=1,
    )
    return _train(train_cpt, config, train_dir, "final_loss", "global_step")


# --- data ----------------------------------------------------------------------------------


def _dataset_files(stage: Stage) -> list[str]:
    return [p for k, p in stage.files.items() if k.startswith("dataset[")]


def _synthesized(upstream: Upstream) -> list[Path]:
    # a chain that kept nothing adds no file (the variant's own datasets may still train)
    return [o.path("records") for sid, o in upstream.items()
            if sid.startswith("synth/") and o.outputs.get("kept", 1)]


def _read_variant(stage: Stage, upstream: Upstream) -> list[list[Any]]:
    """The variant's records per source: each file, then the synthesized records (if any)."""
    from oshie.train.data import read_records

    paths = _dataset_files(stage)
    parts = [
        read_records(path, spec.get("format"))
        for path, spec in zip(paths, stage.params["datasets"], strict=True)
    ]
    return parts + [read_records(p, "messages") for p in _synthesized(upstream)]


def _source_names(stage: Stage, upstream: Upstream) -> list[str]:
    return [Path(p).name for p in _dataset_files(stage)] + [
        f"{p.parent.name}/{p.name}" for p in _synthesized(upstream)
    ]


def run_audit(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    """Audit all files of the variant at once (duplicates across files count), with the
    evaluation files as contamination references."""
    from oshie.data.check import check_records

    clear_unfinished(stage_dir)
    parts = _read_variant(stage, upstream)
    names = _source_names(stage, upstream)
    records = [r for part in parts for r in part]
    sources = [name for name, part in zip(names, parts, strict=True) for _ in part]
    eval_sets = [p for k, p in stage.files.items() if k.startswith("eval[")]
    result = check_records(records, sources=sources, eval_sets=eval_sets)
    with JsonlWriter(stage_dir / "findings.jsonl") as fh:
        for f in result.findings:
            fh.write(f.to_dict())
    summary = result.summary()
    summary["by_check"] = dict(
        sorted(
            (
                (code, c["records_flagged"])
                for code, c in summary["checks"].items()
                if c["findings"]
            ),
            key=lambda kv: -kv[1],
        )
    )
    write_json(stage_dir / "summary.json", summary)
    info(
        f"  audit: {summary['flagged_records']}/{len(records)} records flagged, "
        f"{summary['findings']} findings"
    )
    return {
        "findings": "findings.jsonl",
        "summary": "summary.json",
        "records": len(records),
        "flagged_records": summary["flagged_records"],
    }


def _audit_keep(stage: Stage, parts: list[list[Any]], flt: dict[str, Any]) -> list[list[Any]]:
    """The records of each file the quality audit passes (all files audited together, so
    duplicates across files count), asked of the audit's own result."""
    from oshie.data.check import CheckConfig, check_records

    records = [r for part in parts for r in part]
    eval_sets = [p for k, p in stage.files.items() if k.startswith("eval[")]
    config = CheckConfig(only=flt["checks"]) if flt.get("checks") else None
    if config is not None:
        config.validate_codes()
    result = check_records(records, config, eval_sets=eval_sets)
    kept = set(result.split_indices(flt["severity"])[0])
    kept_parts, offset = [], 0
    for part in parts:
        kept_parts.append([r for i, r in enumerate(part) if offset + i in kept])
        offset += len(part)
    return kept_parts


def run_data(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    from oshie.data.io import write_records
    from oshie.train.data import mix

    clear_unfinished(stage_dir)
    p = stage.params
    flt = p.get("filter") or {}
    parts = _read_variant(stage, upstream)
    kept_parts, dropped = parts, 0
    if flt.get("passed_audit"):
        kept_parts = _audit_keep(stage, parts, flt)
        dropped = sum(len(a) - len(b) for a, b in zip(parts, kept_parts, strict=True))
    weights = [d["weight"] for d in p["datasets"]] + [1.0] * len(_synthesized(upstream))
    records = mix(list(zip(kept_parts, weights, strict=True)), p["seed"])
    if flt.get("limit"):
        records = records[: flt["limit"]]
    if not records:
        raise ConfigError(
            f"{stage.id}: no records left after filtering",
            field="variants.filter",
            hint="loosen the filter",
        )
    write_records(stage_dir / "train.jsonl", records, fmt="messages")
    stats = {
        "records": len(records),
        "dropped_by_audit": dropped,
        "sources": {
            name: len(r) for name, r in zip(_source_names(stage, upstream), parts, strict=True)
        },
    }
    write_json(stage_dir / "stats.json", stats)
    info(
        f"  data: {len(records)} records"
        + (f" ({dropped} dropped by the audit)" if dropped else "")
    )
    return {"train": "train.jsonl", **stats}


# --- tuning --------------------------------------------------------------------------------


def run_sft(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    from oshie.train.sft import train_sft

    data = only(upstream, "data/")
    model = next(o for sid, o in upstream.items() if not sid.startswith("data/")).path("model")
    train_dir = stage_dir / TRAIN_DIR
    datasets = [{"path": str(data.path("train")), "format": "messages"}]
    config = _tuning_config(stage, "sft", model, train_dir, datasets)
    return _train(train_sft, config, train_dir, "initial_loss", "final_loss", "global_step", "resumed_from")


def run_dpo(stage: Stage, stage_dir: Path, upstream: Upstream) -> dict[str, Any]:
    from oshie.train.dpo import train_dpo

    train_dir = stage_dir / TRAIN_DIR
    datasets = [
        {"path": path, **spec}
        for path, spec in zip(_dataset_files(stage), stage.params["datasets"], strict=True)
    ] + [{"path": str(o.path("pairs"))} for s, o in upstream.items() if s.startswith("prefs/")]
    config = _tuning_config(stage, "dpo", model_of(upstream), train_dir, datasets)
    return _train(train_dpo, config, train_dir, "final_loss", "global_step")


ADAPTERS: dict[str, Adapter] = {
    **CORPUS_ADAPTERS,
    "synth": run_synth,
    "base": run_base,
    "pretrain": run_pretrain,
    "audit": run_audit,
    "data": run_data,
    "sft": run_sft,
    "prefs": run_prefs,
    "dpo": run_dpo,
    "eval": run_eval_stage,
    "judge": run_judge,
    "pairwise": run_pairwise,
}


def stage_manifest(stage: Stage, stage_dir: Path) -> Manifest:
    """The per-stage manifest (inputs with hashes, settings); the adapter's outputs go in later."""
    m = Manifest(
        stage_dir,
        f"experiment.{stage.kind}",
        {"id": stage.id, "params": stage.params, "deps": stage.deps, "key": stage.key},
    )
    for name, path in stage.files.items():
        m.add_input(name, path)
    return m
