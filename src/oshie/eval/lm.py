"""Load a local causal LM for scoring: safetensors only, no remote code, eval mode, CPU by default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oshie.errors import ModelError, require


@dataclass
class LocalModel:
    model: Any
    tokenizer: Any
    path: str

    @property
    def device(self) -> Any:
        return self.model.device

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` without special tokens (BOS is handled by the caller)."""
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    @property
    def prefix_ids(self) -> list[int]:
        """BOS when the tokenizer defines one (Llama-style models expect it), else nothing."""
        bos = self.tokenizer.bos_token_id
        return [bos] if bos is not None else []

    @property
    def max_length(self) -> int:
        return int(getattr(self.model.config, "max_position_embeddings", 2048) or 2048)


def load_local_model(model_dir: str | Path, device: str = "cpu", dtype: str = "float32") -> LocalModel:
    torch = require("torch", "train")
    transformers = require("transformers", "train")
    path = Path(model_dir)
    if not path.is_dir():
        raise ModelError(f"model directory not found: {path}", hint="pass a local directory")
    if not any(path.glob("*.safetensors")):
        raise ModelError(
            f"no *.safetensors weights in {path}",
            hint="save the model with save_pretrained(..., safe_serialization=True)",
        )
    transformers.utils.logging.disable_progress_bar()  # our own bars; --quiet means quiet
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(path), trust_remote_code=False)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(path), dtype=getattr(torch, dtype), use_safetensors=True, trust_remote_code=False
        )
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load model from {path}: {exc}") from exc
    model.to(device)
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return LocalModel(model=model, tokenizer=tokenizer, path=str(path))
