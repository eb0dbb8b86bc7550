"""The training loop every method shares: TRL trainer arguments, oshie's progress bar and
log file in place of the trainer's own, and the run itself (train, save, measure).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oshie.console import info
from oshie.errors import require
from oshie.jsonl import JsonlWriter, write_jsonl
from oshie.train.config import TrainCommon
from oshie.train.loading import lora_config, precision_args

__all__ = ["TrainResult", "base_training_args", "is_main_process", "losses", "make_trainer",
           "train_and_save"]


@dataclass
class TrainResult:
    """What a training run produced. The final model (or adapter) is in `output_dir`."""

    kind: str
    output_dir: Path
    global_step: int
    initial_loss: float | None
    final_loss: float | None
    log_history: list[dict[str, Any]]
    data: dict[str, Any]  # examples, tokens, trained tokens, truncation counts
    tokens_seen: int  # non-padding input tokens processed by this run
    tokens_per_second: float
    wall_time_s: float
    adapter: bool = False  # output_dir holds a LoRA adapter (merge with `oshie model merge`)
    resumed_from: str | None = None
    world_size: int = 1  # processes that trained together (torchrun / accelerate launch)
    metrics: dict[str, Any] = field(default_factory=dict)  # trainer's final train/eval metrics

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the log history is written to its own file)."""
        d = asdict(self)
        d["output_dir"] = str(self.output_dir)
        d.pop("log_history")
        return d


def is_main_process() -> bool:
    """False on the non-zero ranks of a torchrun / accelerate launch job (they stay silent)."""
    return int(os.environ.get("RANK", "0")) == 0


def make_trainer(
    trainer_cls: Any,
    config: TrainCommon,
    *,
    model: Any,
    args: Any,
    train_rows: list[dict[str, Any]],
    eval_rows: list[dict[str, Any]],
    tokenizer: Any,
    **extra: Any,
) -> Any:
    """A TRL trainer over prepared rows (eval set only when there are eval rows), with LoRA as configured."""
    datasets = require("datasets", "train")
    return trainer_cls(
        model=model,
        args=args,
        train_dataset=datasets.Dataset.from_list(train_rows),
        eval_dataset=datasets.Dataset.from_list(eval_rows) if eval_rows else None,
        processing_class=tokenizer,
        peft_config=lora_config(config),
        **extra,
    )


def base_training_args(config: TrainCommon, has_eval: bool) -> dict[str, Any]:
    """TrainingArguments shared by TRL's SFTConfig and DPOConfig."""
    args: dict[str, Any] = dict(
        output_dir=config.output_dir,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,  # a float < 1 is a ratio of the total steps
        weight_decay=config.weight_decay,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        seed=config.seed,
        data_seed=config.seed,
        logging_steps=config.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        eval_strategy="steps" if has_eval and config.eval_steps else ("epoch" if has_eval else "no"),
        eval_steps=config.eval_steps,
        activation_checkpointing=config.gradient_checkpointing,  # the transformers 5 name
        report_to=config.report_to or "none",
        disable_tqdm=True,  # oshie shows its own rich bar
        log_level="warning",
        include_num_input_tokens_seen="non_padding",
        dataloader_num_workers=0,
        remove_unused_columns=False,
        trust_remote_code=config.trust_remote_code,
    )
    args.update(precision_args(config))
    return args


def _log_callback(path: Path) -> Any:
    transformers = require("transformers", "train")

    class LogHistoryWriter(transformers.TrainerCallback):
        """Appends each trainer log line to log_history.jsonl as it happens."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs:
                with JsonlWriter(path, "a") as fh:  # a NaN loss is written as null, still valid JSON
                    fh.write({"step": state.global_step, **logs})

    return LogHistoryWriter()


def _progress_callback() -> Any:
    """A rich progress bar over optimiser steps (replaces the trainer's tqdm and log prints)."""
    transformers = require("transformers", "train")
    from oshie.console import progress

    class RichProgress(transformers.TrainerCallback):
        def __init__(self) -> None:
            self.bar: Any = None
            self.task: Any = None

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self.bar = progress()
                self.bar.start()
                self.task = self.bar.add_task("training", total=state.max_steps, completed=state.global_step)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if self.bar is not None and logs and "loss" in logs:
                self.bar.update(self.task, description=f"training  loss {float(logs['loss']):.4f}")

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.update(self.task, completed=state.global_step)

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.stop()
                self.bar = None

    return RichProgress()


def losses(log_history: list[dict[str, Any]], key: str = "loss") -> list[float]:
    """The logged values of `key` in step order."""
    return [float(e[key]) for e in log_history if key in e]


def _tokens_at(checkpoint: Path | None) -> int:
    """Tokens a resumed run had already seen, so its tokens/s counts only its own work."""
    state_file = checkpoint / "trainer_state.json" if checkpoint else None
    if state_file is None or not state_file.exists():
        return 0
    return int(json.loads(state_file.read_text()).get("num_input_tokens_seen", 0) or 0)


def train_and_save(trainer: Any, config: TrainCommon, *, kind: str, data_stats: dict[str, Any],
                   resume_from: Path | None, tokenizer: Any) -> TrainResult:
    """Train, save the final model + tokenizer and the full log history into output_dir."""
    transformers = require("transformers", "train")
    out = Path(config.output_dir)
    log_path = out / "log_history.jsonl"
    if resume_from is None and log_path.exists():
        log_path.unlink()
    trainer.add_callback(_log_callback(log_path))
    for default in (transformers.trainer_callback.ProgressCallback, transformers.trainer_callback.PrinterCallback):
        trainer.remove_callback(default)
    trainer.add_callback(_progress_callback())
    if is_main_process():
        info(f"[bold]{kind}[/bold]: {data_stats.get('examples')} examples, "
             f"{data_stats.get('tokens')} tokens -> {out}")
    t0 = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    wall = time.perf_counter() - t0
    trainer.model.config.use_cache = True  # inference wants the cache
    trainer.save_model(str(out))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(out))
    history = list(trainer.state.log_history)
    # the full history (restored from the checkpoint on resume), one JSON object per line
    write_jsonl(log_path, history)
    train_losses = losses(history)
    tokens_seen = int(getattr(trainer.state, "num_input_tokens_seen", 0) or 0)
    run_tokens = max(0, tokens_seen - _tokens_at(resume_from))
    return TrainResult(
        kind=kind,
        output_dir=out,
        global_step=trainer.state.global_step,
        initial_loss=train_losses[0] if train_losses else None,
        final_loss=train_losses[-1] if train_losses else None,
        log_history=history,
        data=data_stats,
        tokens_seen=run_tokens,
        tokens_per_second=round(run_tokens / wall, 1) if wall > 0 else 0.0,
        wall_time_s=round(wall, 3),
        adapter=config.method != "full",
        resumed_from=str(resume_from) if resume_from else None,
        world_size=int(trainer.args.world_size),
        metrics={k: v for k, v in (output.metrics or {}).items() if isinstance(v, int | float)},
    )
