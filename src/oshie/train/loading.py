"""Loading what a training job starts from: model directory checks, device and precision,
the model (quantised for QLoRA, fp32 on CPU), the tokenizer and the LoRA settings.

Every method (SFT, DPO, CPT) and `oshie model merge` load through here, so a rule such as
"QLoRA loads 4-bit" or "CPU trains in fp32" holds for all of them.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oshie.console import warn
from oshie.errors import ConfigError, ModelError, UsageError, require
from oshie.train.config import LoraSettings, TrainCommon

__all__ = [
    "TOKENIZER_FILES", "WEIGHT_FILES", "check_method", "check_model_dir", "device_name",
    "for_training", "load_model", "load_tokenizer", "lora_config", "precision_args",
    "quiet_library_warnings", "quiet_transformers", "use_cuda",
]

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json")


def check_model_dir(path: str | Path, *, field_name: str = "model", source: str | None = None) -> Path:
    """A usable local model dir has config.json, safetensors weights and a tokenizer;
    checked before anything loads so a wrong path fails in a second, not after data prep."""
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
    """`device: auto` trains on a GPU when one is visible; `cuda` without one is an error."""
    torch = require("torch", "train")
    if config.device == "cuda" and not torch.cuda.is_available():
        raise UsageError("device: cuda was asked for but no CUDA GPU is visible", field="device")
    return config.device != "cpu" and torch.cuda.is_available()


def device_name(config: TrainCommon) -> str:
    """The device `device: auto|cpu|cuda` resolves to on this machine."""
    return "cuda" if use_cuda(config) else "cpu"


def precision_args(config: TrainCommon) -> dict[str, Any]:
    """use_cpu/bf16/fp16 for TrainingArguments: fp32 on CPU, bf16 on GPUs that support it."""
    torch = require("torch", "train")
    if not use_cuda(config):
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
        raise ConfigError("method 'qlora' needs the bitsandbytes package", path=config.source,
                          field="method", hint="pip install bitsandbytes") from exc


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


def load_model(path: str | Path, config: TrainCommon, model_config: Any = None) -> Any:
    """The model to train: 4-bit NF4 for QLoRA, fp32 on CPU, the checkpoint's dtype on GPU.

    `model_config` replaces the directory's config (CPT passes one with RoPE scaling, so
    the rotary embedding is built scaled)."""
    transformers = require("transformers", "train")
    quiet_transformers()
    torch = require("torch", "train")
    kwargs: dict[str, Any] = {"trust_remote_code": config.trust_remote_code}
    if model_config is not None:
        kwargs["config"] = model_config
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
    attention) would attend to each other. The loop turns the cache back on before saving."""
    model.config.use_cache = False
    return model


def load_tokenizer(path: str | Path, config: TrainCommon) -> Any:
    """The model's tokenizer, with a pad token (many base models ship without one)."""
    transformers = require("transformers", "train")
    tok = transformers.AutoTokenizer.from_pretrained(str(path), trust_remote_code=config.trust_remote_code)
    if tok.pad_token is None:  # padding is masked anyway
        tok.pad_token = tok.eos_token
    return tok


def lora_config(config: TrainCommon, task_type: str = "CAUSAL_LM") -> Any | None:
    """peft's LoraConfig for `method: lora|qlora`, None for full tuning."""
    if config.method == "full":
        return None
    peft = require("peft", "train")
    lora = config.lora or LoraSettings()
    return peft.LoraConfig(
        r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
        target_modules=lora.target_modules, task_type=task_type,
    )
