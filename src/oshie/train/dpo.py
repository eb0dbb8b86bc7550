"""Direct preference optimisation with TRL's DPOTrainer.

    result = train_dpo("examples/train/dpo.yaml")

The reference model is `ref_model` when given; otherwise TRL uses a frozen copy of
the starting model (full tuning) or the same model with its adapter disabled (LoRA),
which costs no extra memory. Reward accuracy and chosen-rejected margin are in the
log history as `rewards/accuracies` and `rewards/margins`.
"""

from __future__ import annotations

from typing import Any

from oshie.errors import DataError, require
from oshie.train import data as tdata
from oshie.train.config import DPOConfig
from oshie.train.job import TrainJob
from oshie.train.loading import load_model
from oshie.train.loop import base_training_args, make_trainer
from oshie.train.templates import chatml_template, ensure_chatml_tokens, resolve_template

__all__ = ["DPO", "train_dpo"]


def _build(config: DPOConfig, tokenizer: Any) -> tuple[Any, dict[str, Any]]:
    """Preference pairs -> prompt/chosen/rejected rows -> TRL's DPOTrainer."""
    trl = require("trl", "train")
    template = resolve_template(tokenizer, config.template, source=config.model)
    rows: list[dict[str, Any]] = []
    for spec in config.datasets:
        part = tdata.preference_rows(tdata.read_records(spec.path, spec.format), source=spec.path)
        rows.extend(tdata.mix([(part, spec.weight)], config.seed))
    if not rows:
        raise DataError("the datasets hold no preference pairs", path=config.datasets[0].path)

    model = load_model(config.model, config)
    ref_model = load_model(config.ref_model, config) if config.ref_model else None
    if template == chatml_template():
        added = ensure_chatml_tokens(tokenizer, model)
        if added and ref_model is not None:
            ref_model.resize_token_embeddings(len(tokenizer))
    tokenizer.chat_template = template

    stats = _preference_token_stats(rows, tokenizer, config.max_length)
    if stats["fits"] == 0:
        raise DataError(
            f"every pair was truncated away: no prompt leaves room for an answer within "
            f"max_length {config.max_length}",
            path=", ".join(s.path for s in config.datasets), field="max_length",
            hint="raise max_length or shorten the prompts",
        )
    train_rows, eval_rows = tdata.split_eval(rows, config.eval_split, config.seed)
    args = trl.DPOConfig(
        **base_training_args(config, has_eval=bool(eval_rows)),
        max_length=config.max_length,
        beta=config.beta,
        loss_type=[config.loss_type],
    )
    trainer = make_trainer(
        trl.DPOTrainer, config, model=model, args=args, train_rows=train_rows, eval_rows=eval_rows,
        tokenizer=tokenizer, ref_model=ref_model,
    )
    stats |= {"examples": len(rows), "train_examples": len(train_rows), "eval_examples": len(eval_rows)}
    return trainer, stats


def _preference_token_stats(rows: list[dict[str, Any]], tokenizer: Any, max_length: int) -> dict[str, Any]:
    """Token counts per pair (prompt + chosen + rejected) and how many fit `max_length`."""
    tokens = fits = 0
    for row in rows:
        prompt = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=False)
        n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        n_answers = sum(
            len(tokenizer(m["content"], add_special_tokens=False)["input_ids"]) + 1
            for key in ("chosen", "rejected") for m in row[key]
        )
        tokens += 2 * n_prompt + n_answers
        fits += n_prompt < max_length
    return {"tokens": tokens, "fits": fits}


DPO = TrainJob("dpo", DPOConfig, _build, model_fields=("model", "ref_model"))


# train_dpo(config or YAML path, overrides=None, *, resume=False, overwrite=False) -> TrainResult
train_dpo = DPO.run
