"""Training configs: pydantic models loaded from YAML, one per method (SFT, DPO, CPT).

Every field is documented here; unknown keys are errors naming the key and the file.
`load_train_config(path, overrides)` applies `key=value` overrides (dotted keys, values parsed
as YAML) before validation, so `--set lora.r=8` and `--set datasets.0.weight=2` work.
Relative paths are relative to the current working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from oshie import config as shared
from oshie.errors import ConfigError

__all__ = [
    "CONFIG_CLASSES",
    "AnyConfig",
    "CPTConfig",
    "DPOConfig",
    "DatasetSpec",
    "LoraSettings",
    "RopeScaling",
    "SFTConfig",
    "TextSource",
    "TrainCommon",
    "load_train_config",
    "validate_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetSpec(_Strict):
    """One input file of records (any format `oshie.data.io` reads)."""

    path: str
    format: str | None = None  # None: auto-detect (ichikara, alpaca, sharegpt, messages, ...)
    # Per-epoch multiplier: 2 = every record twice, 0.5 = a seeded random half.
    weight: float = Field(1.0, gt=0)


class TextSource(_Strict):
    """One raw-text file for continued pre-training: .txt (lines/paragraphs) or .jsonl."""

    path: str
    text_field: str = "text"  # JSONL key holding the text
    by: Literal["line", "paragraph"] = "line"  # .txt: one document per line or per blank-line block
    weight: float = Field(1.0, gt=0)


class LoraSettings(_Strict):
    """LoRA adapter shape (used when `method` is lora or qlora)."""

    r: int = Field(16, gt=0)
    alpha: int = Field(32, gt=0)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] | str = "all-linear"


class RopeScaling(_Strict):
    """RoPE scaling for a longer context; stored in the saved model config.

    type: linear (position interpolation), dynamic (NTK), yarn, llama3, longrope...
    (any type the installed transformers supports). `extra` passes type-specific keys
    such as beta_fast, low_freq_factor.
    """

    type: str = "linear"
    factor: float = Field(2.0, gt=1.0)
    extra: dict[str, Any] = Field(default_factory=dict)


class TrainCommon(_Strict):
    """Fields shared by every method."""

    _source: str | None = PrivateAttr(default=None)  # the YAML file, for error messages
    model: str  # local model directory (weights as safetensors + tokenizer)
    output_dir: str  # run directory: final model, checkpoints, manifest.json, log_history.jsonl
    method: Literal["full", "lora", "qlora"] = "full"  # qlora needs bitsandbytes + a CUDA GPU
    lora: LoraSettings | None = None  # only with method lora/qlora; defaults apply when omitted
    max_length: int = Field(1024, gt=0)  # tokens per example (or per packed block)
    learning_rate: float = Field(2e-5, gt=0)
    lr_scheduler: str = "cosine"  # any transformers scheduler name: linear, cosine, constant...
    warmup_ratio: float = Field(0.0, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    epochs: float = Field(1.0, gt=0)
    max_steps: int = -1  # > 0 overrides epochs
    batch_size: int = Field(8, gt=0)  # per device
    grad_accum: int = Field(1, gt=0)
    eval_split: float = Field(0.0, ge=0, lt=1)  # fraction of the data held out for evaluation
    eval_steps: int | None = None  # evaluate every N steps (needs eval_split > 0)
    seed: int = 0  # same seed + same data = same data order and same losses on CPU
    logging_steps: int = Field(1, gt=0)
    save_steps: int = Field(500, gt=0)  # checkpoint interval, for --resume
    save_total_limit: int | None = 2  # checkpoints kept (oldest removed)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"  # auto: bf16 on capable GPUs
    gradient_checkpointing: bool = False
    report_to: list[str] = Field(default_factory=list)  # e.g. [tensorboard], [wandb]
    trust_remote_code: bool = False

    @property
    def source(self) -> str | None:
        """The YAML file this config was loaded from (None for a dict or a constructed object)."""
        return self._source

    @model_validator(mode="after")
    def _check_common(self) -> TrainCommon:
        if self.lora is not None and self.method == "full":
            raise ValueError("'lora' options are set but method is 'full': set method: lora (or remove 'lora')")
        if self.eval_steps is not None and self.eval_split == 0:
            raise ValueError("'eval_steps' needs 'eval_split' > 0 (no data is held out for evaluation)")
        return self


class SFTConfig(TrainCommon):
    """Supervised fine-tuning on conversations (TRL SFTTrainer)."""

    kind: Literal["sft"] = "sft"
    datasets: list[DatasetSpec] = Field(min_length=1)
    # auto: the model's template if it has {% generation %} markers, ChatML if it has none;
    # chatml: always ChatML; model: the model's own (must have markers); or a .jinja path
    template: str = "auto"
    assistant_only_loss: bool = True  # loss only on assistant content and its end-of-turn token
    packing: bool = False  # concatenate examples into max_length blocks (no padding)
    packing_strategy: Literal["bfd", "wrapped"] = "bfd"
    learning_rate: float = Field(2e-5, gt=0)


class DPOConfig(TrainCommon):
    """Direct preference optimisation (TRL DPOTrainer) on preference pairs."""

    kind: Literal["dpo"] = "dpo"
    datasets: list[DatasetSpec] = Field(min_length=1)
    template: str = "auto"
    beta: float = Field(0.1, gt=0)
    loss_type: str = "sigmoid"  # sigmoid (DPO), ipo, hinge, robust, ... (TRL loss types)
    # Reference model: a local path; omitted = a frozen copy of `model` (full tuning) or
    # the same model with the adapter disabled (LoRA).
    ref_model: str | None = None
    learning_rate: float = Field(5e-6, gt=0)


class CPTConfig(TrainCommon):
    """Continued pre-training on raw text, packed into blocks of `max_length` tokens."""

    kind: Literal["cpt"] = "cpt"
    datasets: list[TextSource] = Field(min_length=1)
    rope_scaling: RopeScaling | None = None
    # New context length; default: original max_position_embeddings * rope factor.
    max_position_embeddings: int | None = None
    learning_rate: float = Field(1e-4, gt=0)

    @model_validator(mode="after")
    def _check_cpt(self) -> CPTConfig:
        if self.max_position_embeddings is not None and self.rope_scaling is None:
            raise ValueError("'max_position_embeddings' is set without 'rope_scaling'")
        return self


AnyConfig = SFTConfig | DPOConfig | CPTConfig
CONFIG_CLASSES: dict[str, type[TrainCommon]] = {"sft": SFTConfig, "dpo": DPOConfig, "cpt": CPTConfig}


def validate_config(
    data: dict[str, Any],
    kind: str | None = None,
    *,
    source: Path | None = None,
    overridden: list[str] | tuple[str, ...] = (),
) -> AnyConfig:
    """Validate a dict as the config of `kind` (or of its own `kind:` key; default sft)."""
    kind = kind or data.get("kind") or "sft"
    if kind not in CONFIG_CLASSES:
        raise ConfigError(f"unknown kind '{kind}'", path=source, field="kind", hint="use sft, dpo or cpt")
    if data.get("kind", kind) != kind:
        raise ConfigError(
            f"this is a '{data['kind']}' config, not '{kind}'",
            path=source, field="kind", hint=f"run 'oshie train {data['kind']}' instead",
        )
    config = shared.validate(CONFIG_CLASSES[kind], data, path=source, overridden=overridden)
    config._source = str(source) if source else None
    return config  # type: ignore[return-value]


def load_train_config(
    path: str | Path | dict[str, Any],
    overrides: dict[str, Any] | list[str] | None = None,
    kind: str | None = None,
) -> AnyConfig:
    """Load a training config from YAML (or a dict), apply overrides, validate: the steps of
    `oshie.config.load_config`, except that the model class is chosen by the config's kind.

    `kind` is sft, dpo or cpt; when None the config's own `kind:` key decides (default sft).
    """
    source = None if isinstance(path, dict) else Path(path)
    data = dict(path) if isinstance(path, dict) else shared.load_yaml(path)
    pairs = shared.as_pairs(overrides)
    data = shared.apply_overrides(data, pairs)
    return validate_config(data, kind, source=source, overridden=[k for k, _ in pairs])
