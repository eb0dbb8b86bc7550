"""A training job described once: SFT, DPO and CPT differ only in their config type and in
how they turn data into a TRL trainer; the rest of a run is the same for all three.

    job.run(config)  # load the config, check, prepare output_dir, build, train, record

Checks come before any loading: the method's requirements (QLoRA needs a GPU), every
model directory the config names, and the output directory (an existing run is resumed
only when asked, and a finished run is never "resumed" into doing nothing).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from oshie.console import info, warn
from oshie.errors import ConfigError, UsageError, require
from oshie.paths import guard_outputs
from oshie.train.config import TrainCommon, load_train_config
from oshie.train.loading import (
    check_method,
    check_model_dir,
    device_name,
    load_tokenizer,
    quiet_library_warnings,
)
from oshie.train.loop import TrainResult, is_main_process, train_and_save
from oshie.train.manifest import new_manifest, write_manifest

__all__ = ["Built", "TrainJob", "is_finished", "last_checkpoint", "prepare_output_dir"]

# (config, tokenizer) -> (trainer, data statistics); the method-specific part of a job
BuildFn = Callable[[Any, Any], tuple[Any, dict[str, Any]]]


class Built(NamedTuple):
    """A trainer ready to run, with what the run records beside it."""

    trainer: Any
    stats: dict[str, Any]
    tokenizer: Any
    resume_from: Path | None


def last_checkpoint(output_dir: str | Path) -> Path | None:
    """The newest complete checkpoint (one cut short by a kill has no trainer_state.json)."""
    dirs = [
        d for d in Path(output_dir).glob("checkpoint-*")
        if d.is_dir() and d.name[11:].isdigit() and (d / "trainer_state.json").is_file()
    ]
    return max(dirs, key=lambda d: int(d.name[11:])) if dirs else None


def _progress(ckpt: Path) -> tuple[int, float]:
    """(global step, epoch) a checkpoint reached."""
    state = json.loads((ckpt / "trainer_state.json").read_text(encoding="utf-8"))
    return int(state.get("global_step", 0)), float(state.get("epoch") or 0.0)


def is_finished(config: TrainCommon, ckpt: Path) -> bool:
    """Whether a checkpoint already reached the configured end (max_steps, else epochs)."""
    step, epoch = _progress(ckpt)
    return step >= config.max_steps if config.max_steps > 0 else epoch >= config.epochs


def _refuse_finished(config: TrainCommon, ckpt: Path) -> None:
    """A checkpoint at or past the configured end has nothing left to train: resuming it
    would only overwrite the saved model and the manifest with an empty run."""
    if is_finished(config, ckpt):
        step, epoch = _progress(ckpt)
        goal = f"max_steps {config.max_steps}" if config.max_steps > 0 else f"epochs {config.epochs:g}"
        raise UsageError(
            f"--resume: {ckpt.name} has already trained {step} steps ({epoch:g} epochs); "
            f"{goal} leaves nothing to resume",
            path=config.output_dir, field="max_steps" if config.max_steps > 0 else "epochs",
            hint="raise max_steps (or epochs) to train further, or pass --overwrite to start again",
        )


def prepare_output_dir(config: TrainCommon, resume: bool, overwrite: bool) -> Path | None:
    """The checkpoint to resume from. Refuses to silently mix two runs in one dir."""
    out = Path(config.output_dir)
    ckpt = last_checkpoint(out)
    if resume:
        if ckpt is None:
            warn(f"--resume: no checkpoint in {out}; starting from the beginning")
        else:
            _refuse_finished(config, ckpt)
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


@dataclass(frozen=True)
class TrainJob:
    """One training method: its name, its config type and its trainer builder.

    `model_fields` are the config fields naming local model directories, checked before
    anything is loaded.
    """

    kind: str
    config_type: type[TrainCommon]
    build: BuildFn
    model_fields: tuple[str, ...] = ("model",)

    def load(self, config: TrainCommon | str | Path,
             overrides: dict[str, Any] | list[str] | None = None) -> Any:
        """The config object, from itself or from a YAML path with `--set` overrides."""
        if not isinstance(config, self.config_type):
            return load_train_config(config, overrides, kind=self.kind)  # type: ignore[arg-type]
        if overrides:
            raise ConfigError("pass overrides with a config path, or apply them to the config object")
        return config

    def build_trainer(self, config: Any, *, resume: bool = False, overwrite: bool = False) -> Built:
        """Check everything, prepare the output dir and data, and return the trainer."""
        out = Path(config.output_dir)
        guard_outputs([out, *(out / n for n in ("log_history.jsonl", "manifest.json", "report.html"))],
                      [config.source, *(getattr(config, n, None) for n in self.model_fields),
                       *(d.path for d in config.datasets)], option="output_dir")
        require("trl", "train")
        require("datasets", "train")  # fail before any loading when the extra is missing
        check_method(config)
        for name in self.model_fields:
            if getattr(config, name, None):
                check_model_dir(getattr(config, name), field_name=name, source=config.source)
        resume_from = prepare_output_dir(config, resume, overwrite)
        tokenizer = load_tokenizer(config.model, config)
        trainer, stats = self.build(config, tokenizer)
        return Built(trainer, stats, tokenizer, resume_from)

    def run(self, config: TrainCommon | str | Path,
            overrides: dict[str, Any] | list[str] | None = None, *,
            resume: bool = False, overwrite: bool = False) -> TrainResult:
        """Load the config, build the trainer (all checks happen there, before any step),
        train, then record the run (manifest.json, report.html)."""
        cfg = self.load(config, overrides)
        if is_main_process():
            info(f"oshie train {self.kind}: model {cfg.model}, method {cfg.method}, "
                 f"device {device_name(cfg)}")
        with quiet_library_warnings():
            built = self.build_trainer(cfg, resume=resume, overwrite=overwrite)
            manifest = new_manifest(cfg, self.kind)
            result = train_and_save(built.trainer, cfg, kind=self.kind, data_stats=built.stats,
                                    resume_from=built.resume_from, tokenizer=built.tokenizer)
        if built.trainer.is_world_process_zero():
            write_manifest(manifest, result, cfg)
        return result
