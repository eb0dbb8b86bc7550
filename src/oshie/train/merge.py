"""Merge a LoRA adapter into its base model, offline, and save a plain model directory."""

from __future__ import annotations

import json
from pathlib import Path

from oshie.errors import ModelError, require
from oshie.train.loading import (
    TOKENIZER_FILES,
    check_model_dir,
    quiet_library_warnings,
    quiet_transformers,
)

__all__ = ["adapter_base", "merge_adapter"]


def adapter_base(adapter_dir: str | Path) -> str | None:
    """The base model path an adapter records, or None; an error if the dir is no adapter."""
    cfg = Path(adapter_dir) / "adapter_config.json"
    if not cfg.is_file():
        raise ModelError(
            "not a LoRA adapter directory (no adapter_config.json)", path=adapter_dir,
            hint="pass the output_dir of a run with method: lora",
        )
    return json.loads(cfg.read_text("utf-8")).get("base_model_name_or_path")


def merge_adapter(adapter_dir: str | Path, out_dir: str | Path, base: str | Path | None = None) -> Path:
    """Load base + adapter, fold the LoRA weights in, save model (safetensors) + tokenizer.

    `base` defaults to the base path recorded in the adapter's config; it must be a
    local directory (nothing is downloaded).
    """
    transformers = require("transformers", "train")
    peft = require("peft", "train")
    recorded = adapter_base(adapter_dir)
    base_path = str(base) if base else recorded
    if not base_path:
        raise ModelError("the adapter does not record its base model", path=adapter_dir,
                         hint="pass --base BASE_MODEL_DIR")
    if not Path(base_path).is_dir():
        raise ModelError(
            f"base model '{base_path}' is not a local directory", path=adapter_dir,
            field="base_model_name_or_path", hint="pass --base with the local base model directory",
        )
    check_model_dir(base_path, field_name="base")
    quiet_transformers()
    tok_dir = adapter_dir if any((Path(adapter_dir) / f).is_file() for f in TOKENIZER_FILES) else base_path
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tok_dir))
    model = transformers.AutoModelForCausalLM.from_pretrained(base_path)
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer))
    with quiet_library_warnings():
        merged = peft.PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out
