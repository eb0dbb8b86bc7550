"""Continued pre-training on raw text, optionally stretching the context with RoPE scaling.

    result = train_cpt("examples/train/cpt.yaml")

Documents are tokenised, joined with the EOS token and cut into `max_length` blocks;
every token is trained. With `rope_scaling: {type: linear, factor: 2}` the model config
gets transformers 5's `rope_parameters` (`rope_type`, `factor`, ...) and a
`max_position_embeddings` multiplied by the factor, before the weights are loaded, so
the rotary embedding is built scaled and the saved config carries the scaling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oshie.errors import ConfigError, DataError, require
from oshie.train import data as tdata
from oshie.train.config import CPTConfig, RopeScaling
from oshie.train.corpus import read_texts
from oshie.train.job import TrainJob
from oshie.train.loading import load_model
from oshie.train.loop import base_training_args, make_trainer

__all__ = ["CPT", "scaled_model_config", "train_cpt"]


# types that need the pre-scaling context length in their parameters
_NEEDS_ORIGINAL = {"yarn", "llama3", "longrope", "dynamic"}


def scaled_model_config(
    model_dir: str | Path, rope: RopeScaling, max_positions: int | None = None, source: str | None = None
) -> Any:
    """The model's config with RoPE scaling applied (transformers 5: `rope_parameters`)."""
    transformers = require("transformers", "train")
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    if rope.type not in ROPE_INIT_FUNCTIONS:
        raise ConfigError(
            f"unknown RoPE scaling type '{rope.type}'", path=source, field="rope_scaling.type",
            hint=f"transformers {transformers.__version__} supports: {', '.join(sorted(ROPE_INIT_FUNCTIONS))}",
        )
    config = transformers.AutoConfig.from_pretrained(str(model_dir))
    original = int(config.max_position_embeddings)
    params = dict(getattr(config, "rope_parameters", None) or {})
    if params.get("rope_type", "default") != "default":
        raise ConfigError(
            f"the model already uses RoPE scaling ({params.get('rope_type')}); stacking another is not supported",
            path=source, field="rope_scaling",
        )
    theta = params.get("rope_theta", getattr(config, "rope_theta", 10000.0))
    new = {"rope_type": rope.type, "rope_theta": theta, "factor": float(rope.factor)}
    if rope.type in _NEEDS_ORIGINAL:
        new["original_max_position_embeddings"] = original
    new.update(rope.extra)
    config.rope_parameters = new
    config.max_position_embeddings = max_positions or int(original * rope.factor)
    return config


def _build(config: CPTConfig, tokenizer: Any) -> tuple[Any, dict[str, Any]]:
    """Raw text -> EOS-joined blocks of max_length tokens -> TRL's SFTTrainer (every token
    trained); the model loads through the shared loader with the (scaled) config."""
    trl = require("trl", "train")
    transformers = require("transformers", "train")

    model_config = (
        scaled_model_config(config.model, config.rope_scaling, config.max_position_embeddings,
                            source=config.source)
        if config.rope_scaling
        else transformers.AutoConfig.from_pretrained(config.model)
    )
    if config.max_length > model_config.max_position_embeddings:
        raise ConfigError(
            f"max_length {config.max_length} exceeds the model's context "
            f"({model_config.max_position_embeddings} positions)",
            path=config.source, field="max_length",
            hint="lower max_length or add rope_scaling to extend the context",
        )
    parts = []
    for spec in config.datasets:
        texts = read_texts([spec.path], text_field=spec.text_field, by=spec.by)
        parts.append((texts, spec.weight))
    texts = tdata.mix(parts, config.seed)
    rows, stats = tdata.pack_texts(texts, tokenizer, config.max_length)
    if not rows:
        raise DataError(
            f"the corpus ({stats.extra['corpus_tokens']} tokens) is shorter than one block of "
            f"max_length {config.max_length} tokens",
            path=", ".join(s.path for s in config.datasets), field="max_length",
            hint="lower max_length or add text",
        )
    model = load_model(config.model, config, model_config=model_config)
    train_rows, eval_rows = tdata.split_eval(rows, config.eval_split, config.seed)
    args = trl.SFTConfig(
        **base_training_args(config, has_eval=bool(eval_rows)),
        max_length=config.max_length,
        packing=False,  # already packed into full blocks
        completion_only_loss=False,
    )
    trainer = make_trainer(
        trl.SFTTrainer, config, model=model, args=args, train_rows=train_rows, eval_rows=eval_rows,
        tokenizer=tokenizer,
    )
    data_stats = stats.as_dict() | {"train_examples": len(train_rows), "eval_examples": len(eval_rows)}
    if config.rope_scaling:
        data_stats["rope_parameters"] = model_config.rope_parameters
        data_stats["max_position_embeddings"] = model_config.max_position_embeddings
    return trainer, data_stats


CPT = TrainJob("cpt", CPTConfig, _build)


# train_cpt(config or YAML path, overrides=None, *, resume=False, overwrite=False) -> TrainResult
train_cpt = CPT.run
