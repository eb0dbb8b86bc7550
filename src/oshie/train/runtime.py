"""What SFT, DPO and CPT share: checking and loading the model, device and precision,
LoRA settings, the run directory (manifest, log history), resume and the result object.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oshie.console import info, warn
from oshie.errors import ConfigError, ModelError, UsageError, require
from oshie.runs import Manifest
from oshie.train.config import LoraSettings, TrainCommon, load_config

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json")


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
        d = asdict(self)
        d["output_dir"] = str(self.output_dir)
        d.pop("log_history")
        return d


def is_main_process() -> bool:
    """False on the non-zero ranks of a torchrun / accelerate launch job (they stay silent)."""
    return int(os.environ.get("RANK", "0")) == 0


def check_model_dir(path: str | Path, *, field_name: str = "model", source: str | None = None) -> Path:
    """A usable local model dir has config.json, safetensors weights and a tokenizer."""
    p = Path(path)
    where = f"{field_name} '{path}'"
    if not p.is_dir():
        raise ModelError(f"{where}: directory not found", path=source, field=field_name,
                         hint="give a local model directory (e.g. made by 'oshie model init')")
    if not (p / "config.json").is_file():
        raise ModelError(f"{where}: no config.json", path=source, field=field_name)
    if not any((p / f).is_file() for f in WEIGHT_FILES):
        bins = list(p.glob("*.bin"))
        hint = ("only PyTorch .bin weights found: convert them to safetensors" if bins
                else "the directory needs model.safetensors (or a sharded index)")
        raise ModelError(f"{where}: no safetensors weights", path=source, field=field_name, hint=hint)
    if not any((p / f).is_file() for f in TOKENIZER_FILES):
        raise ModelError(f"{where}: no tokenizer (tokenizer.json / tokenizer.model)", path=source,
                         field=field_name, hint="save the tokenizer beside the weights")
    return p


def use_cuda(config: TrainCommon) -> bool:
    torch = require("torch", "train")
    if config.device == "cuda" and not torch.cuda.is_available():
        raise UsageError("device: cuda was asked for but no CUDA GPU is visible", field="device")
    return config.device != "cpu" and torch.cuda.is_available()


def precision_args(config: TrainCommon) -> dict[str, Any]:
    """use_cpu/bf16/fp16 for TrainingArguments: fp32 on CPU, bf16 on GPUs that support it."""
    torch = require("torch", "train")
    cuda = use_cuda(config)
    if not cuda:
        if config.precision in ("bf16", "fp16"):
            warn(f"precision {config.precision} ignored on CPU: training in fp32")
        return {"use_cpu": True, "bf16": False, "fp16": False}
    p = config.precision
    if p == "auto":
        p = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return {"use_cpu": False, "bf16": p == "bf16", "fp16": p == "fp16"}


def check_method(config: TrainCommon) -> None:
    """QLoRA needs bitsandbytes and a CUDA GPU: say so before loading anything."""
    if config.method != "qlora":
        return
    if not use_cuda(config):
        raise ConfigError(
            "method 'qlora' needs a CUDA GPU (4-bit bitsandbytes kernels); none is available",
            path=config.source, field="method", hint="use method: lora on CPU",
        )
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as exc:
        raise ConfigError("method 'qlora' needs the bitsandbytes package", path=config.source, field="method",
                          hint="pip install bitsandbytes") from exc


@contextlib.contextmanager
def quiet_library_warnings() -> Iterator[None]:
    """Hide deprecation noise raised inside TRL/transformers internals (not the user's doing)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


def quiet_transformers() -> None:
    """transformers' own tqdm bars (loading weights, writing shards) would interleave with ours."""
    transformers = require("transformers", "train")
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    require("datasets", "train").disable_progress_bars()


def load_model(path: str | Path, config: TrainCommon) -> Any:
    transformers = require("transformers", "train")
    quiet_transformers()
    torch = require("torch", "train")
    kwargs: dict[str, Any] = {"trust_remote_code": config.trust_remote_code}
    if config.method == "qlora":
        kwargs["quantization_config"] = transformers.BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
    kwargs["dtype"] = torch.float32 if not use_cuda(config) else "auto"
    return for_training(transformers.AutoModelForCausalLM.from_pretrained(str(path), **kwargs))


def for_training(model: Any) -> Any:
    """No KV cache while training. With a cache object present, transformers skips detecting
    packed sequences from position_ids, and packed documents (padding-free, SDPA/eager
    attention) would attend to each other. `run` turns the cache back on before saving."""
    model.config.use_cache = False
    return model


def load_tokenizer(path: str | Path, config: TrainCommon) -> Any:
    transformers = require("transformers", "train")
    tok = transformers.AutoTokenizer.from_pretrained(str(path), trust_remote_code=config.trust_remote_code)
    if tok.pad_token is None:  # many base models ship without one; padding is masked anyway
        tok.pad_token = tok.eos_token
    return tok


def lora_config(config: TrainCommon, task_type: str = "CAUSAL_LM") -> Any | None:
    if config.method == "full":
        return None
    peft = require("peft", "train")
    lora = config.lora or LoraSettings()
    return peft.LoraConfig(
        r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
        target_modules=lora.target_modules, task_type=task_type,
    )


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


def last_checkpoint(output_dir: str | Path) -> Path | None:
    """The newest complete checkpoint (one cut short by a kill has no trainer_state.json)."""
    dirs = [
        d for d in Path(output_dir).glob("checkpoint-*")
        if d.is_dir() and d.name[11:].isdigit() and (d / "trainer_state.json").is_file()
    ]
    return max(dirs, key=lambda d: int(d.name[11:])) if dirs else None


def prepare_output_dir(config: TrainCommon, resume: bool, overwrite: bool) -> Path | None:
    """Returns the checkpoint to resume from. Refuses to silently mix two runs in one dir."""
    out = Path(config.output_dir)
    ckpt = last_checkpoint(out)
    if resume:
        if ckpt is None:
            warn(f"--resume: no checkpoint in {out}; starting from the beginning")
        return ckpt
    if ckpt is not None or (out / "manifest.json").exists():
        if not overwrite:
            raise UsageError(
                "output_dir already holds a run",
                path=out, field="output_dir",
                hint="pass --resume to continue it, --overwrite to start again, or choose another output_dir",
            )
        for d in out.glob("checkpoint-*"):
            shutil.rmtree(d)
    return None


def make_log_callback(path: Path) -> Any:
    transformers = require("transformers", "train")

    class LogHistoryWriter(transformers.TrainerCallback):
        """Appends each trainer log line to log_history.jsonl as it happens."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs:
                with path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"step": state.global_step, **logs}, ensure_ascii=False) + "\n")

    return LogHistoryWriter()


def make_progress_callback() -> Any:
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
    return [float(e[key]) for e in log_history if key in e]


def run(
    trainer: Any,
    config: TrainCommon,
    *,
    kind: str,
    manifest: Manifest,
    data_stats: dict[str, Any],
    resume_from: Path | None,
    tokenizer: Any,
) -> TrainResult:
    """Train, save the final model + tokenizer into output_dir, write the logs and manifest."""
    transformers = require("transformers", "train")
    out = Path(config.output_dir)
    log_path = out / "log_history.jsonl"
    if resume_from is None and log_path.exists():
        log_path.unlink()
    trainer.add_callback(make_log_callback(log_path))
    for default in (transformers.trainer_callback.ProgressCallback, transformers.trainer_callback.PrinterCallback):
        trainer.remove_callback(default)
    trainer.add_callback(make_progress_callback())
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
    with log_path.open("w", encoding="utf-8") as fh:
        for entry in history:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    train_losses = losses(history)
    tokens_seen = int(getattr(trainer.state, "num_input_tokens_seen", 0) or 0)
    start_tokens = 0
    if resume_from is not None:
        state_file = resume_from / "trainer_state.json"
        if state_file.exists():
            start_tokens = int(json.loads(state_file.read_text()).get("num_input_tokens_seen", 0) or 0)
    run_tokens = max(0, tokens_seen - start_tokens)
    result = TrainResult(
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
    if trainer.is_world_process_zero():
        # set directly: these are counts, and redact() would hide any key containing "token"
        manifest.data["result"] = {k: v for k, v in result.as_dict().items() if k != "output_dir"}
        manifest.data["token_counts"] = data_stats
        manifest.data["tokens_per_second"] = result.tokens_per_second
        from oshie.train.report import write_train_report

        write_train_report(result, config, out)
        manifest.write(outputs={"model": ".", "log_history": "log_history.jsonl", "report": "report.html"})
    return result


def new_manifest(config: TrainCommon, kind: str) -> Manifest:
    manifest = Manifest(config.output_dir, f"train.{kind}", config)
    manifest.add_input("model", config.model)
    for i, spec in enumerate(config.datasets):  # type: ignore[attr-defined]
        manifest.add_input(f"dataset[{i}]", spec.path)
    if getattr(config, "ref_model", None):
        manifest.add_input("ref_model", config.ref_model)  # type: ignore[attr-defined]
    return manifest


def log_start(kind: str, config: TrainCommon) -> None:
    device = "cuda" if use_cuda(config) else "cpu"
    if is_main_process():
        info(f"oshie train {kind}: model {config.model}, method {config.method}, device {device}")


# build(config, resume=..., overwrite=...) -> (trainer, data stats, tokenizer, checkpoint to resume)
TrainerBuilder = Callable[..., tuple[Any, dict[str, Any], Any, Path | None]]


def train_from_config(
    kind: str,
    config_type: type[TrainCommon],
    build: TrainerBuilder,
    config: TrainCommon | str | Path,
    overrides: dict[str, Any] | list[str] | None,
    *,
    resume: bool,
    overwrite: bool,
) -> TrainResult:
    """The run every method shares: load the config (object or YAML path), announce the run,
    build the trainer (all checks happen there, before any step), then train and record it."""
    if not isinstance(config, config_type):
        config = load_config(config, overrides, kind=kind)  # type: ignore[arg-type]
    elif overrides:
        raise ConfigError("pass overrides with a config path, or apply them to the config object")
    log_start(kind, config)
    with quiet_library_warnings():
        trainer, stats, tokenizer, resume_from = build(config, resume=resume, overwrite=overwrite)
        manifest = new_manifest(config, kind)
        return run(trainer, config, kind=kind, manifest=manifest, data_stats=stats,
                   resume_from=resume_from, tokenizer=tokenizer)
