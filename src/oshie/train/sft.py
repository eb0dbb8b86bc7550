"""Supervised fine-tuning on conversations with TRL's SFTTrainer.

    result = train_sft("examples/train/sft.yaml")
    result.output_dir, result.initial_loss, result.final_loss, result.log_history

Examples are tokenised by oshie (`oshie.train.data.sft_examples`) with a template that
marks assistant turns, so the labels TRL trains on are exactly the assistant content
and its end-of-turn token; TRL then packs (optionally) and trains.
"""

from __future__ import annotations

from typing import Any

from oshie.console import warn
from oshie.errors import DataError, require
from oshie.train import data as tdata
from oshie.train.config import SFTConfig
from oshie.train.job import TrainJob
from oshie.train.loading import load_model
from oshie.train.loop import base_training_args, make_trainer
from oshie.train.templates import chatml_template, ensure_chatml_tokens, resolve_template

__all__ = ["SFT", "train_sft"]


def _build(config: SFTConfig, tokenizer: Any) -> tuple[Any, dict[str, Any]]:
    """Records -> tokenised examples with assistant-only labels -> TRL's SFTTrainer."""
    trl = require("trl", "train")
    template = resolve_template(tokenizer, config.template, source=config.model)
    records = tdata.mix(
        [(tdata.read_records(s.path, s.format), s.weight) for s in config.datasets], config.seed
    )
    if not records:
        raise DataError("the datasets hold no records", path=config.datasets[0].path)

    model = load_model(config.model, config)
    if template == chatml_template():
        ensure_chatml_tokens(tokenizer, model)
    tokenizer.chat_template = template  # saved with the final model, so inference renders the same

    rows, stats = tdata.sft_examples(
        records, tokenizer, template, config.max_length, config.assistant_only_loss
    )
    if not rows:
        where = ", ".join(s.path for s in config.datasets)
        raise DataError(
            f"every example was truncated away: max_length {config.max_length} leaves no "
            f"trained (assistant) token in any of {len(records)} examples",
            path=where, field="max_length",
            hint="raise max_length, or shorten system prompts and user turns",
        )
    if stats.dropped_truncated:
        warn(f"{stats.dropped_truncated} examples dropped: no assistant token left "
                     f"after truncation to {config.max_length} tokens")
    attn = getattr(model.config, "_attn_implementation", "")
    if config.packing and config.packing_strategy == "bfd" and "flash" not in str(attn) and config.batch_size > 1:
        # bfd is padding-free: TRL flattens each batch into one sequence. Kept correct (see
        # loading.for_training) but SDPA/eager attention then spans the whole flattened batch.
        warn(f"packing_strategy bfd with {attn} attention attends over the whole flattened batch "
             "(slower than no packing on CPU, see bench/train_throughput.py); for speed use "
             "batch_size: 1 with a larger max_length, or packing_strategy: wrapped "
             "(documents in a block then see each other)")
    train_rows, eval_rows = tdata.split_eval(rows, config.eval_split, config.seed)

    args = trl.SFTConfig(
        **base_training_args(config, has_eval=bool(eval_rows)),
        max_length=config.max_length,
        packing=config.packing,
        packing_strategy=config.packing_strategy,
        # labels are already masked by oshie; TRL must not re-derive them
        assistant_only_loss=False,
        completion_only_loss=False,
        dataset_num_proc=None,
    )
    trainer = make_trainer(
        trl.SFTTrainer, config, model=model, args=args, train_rows=train_rows, eval_rows=eval_rows,
        tokenizer=tokenizer,
    )
    data_stats = stats.as_dict() | {"train_examples": len(train_rows), "eval_examples": len(eval_rows),
                                    "records": len(records)}
    return trainer, data_stats


SFT = TrainJob("sft", SFTConfig, _build)


# train_sft(config or YAML path, overrides=None, *, resume=False, overwrite=False) -> TrainResult
train_sft = SFT.run
