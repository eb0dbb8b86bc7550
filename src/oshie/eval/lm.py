"""Load a local causal LM for scoring: safetensors only, no remote code, eval mode.

How text becomes tokens follows lm-evaluation-harness, so scores are comparable with
published lm-eval / JGLUE numbers: a text is encoded with the tokenizer's own special
tokens (BOS exactly when the tokenizer adds one, never twice when the text already
starts with it), and the window is the model's `n_positions` / `max_position_embeddings`
/ `n_ctx`, else the tokenizer's `model_max_length`, else 2048 (`--max-length` overrides).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from oshie.errors import ModelError, UsageError, require

DEFAULT_WINDOW = 2048
WINDOW_FIELDS = ("n_positions", "max_position_embeddings", "n_ctx")
_NO_LIMIT = int(1e29)  # tokenizers without a limit report a huge model_max_length
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class LocalModel:
    model: Any
    tokenizer: Any
    path: str
    window: int | None = None  # overrides the model's own window (--max-length)

    @property
    def device(self) -> Any:
        return self.model.device

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` without any special token (for counting lengths)."""
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    @cached_property
    def prefix_text(self) -> str:
        return self.tokenizer.decode([self.prefix_token_id]) if self.prefix_token_id is not None else ""

    def special_kwargs(self, text: str) -> dict[str, bool]:
        """The tokenizer's own default, except that a text already starting with the prefix
        token's text (BOS, else EOS) gets none: it is never added twice."""
        prefix = self.prefix_text
        return {"add_special_tokens": False} if prefix and text.startswith(prefix) else {}

    def encode_text(self, text: str) -> list[int]:
        """Token ids of a prompt as lm-eval encodes it (the tokenizer decides about BOS)."""
        return self.tokenizer(text, **self.special_kwargs(text))["input_ids"]

    def encode_many(self, texts: list[str]) -> list[list[int]]:
        """`encode_text` of several texts that share their start (one tokenizer call)."""
        return self.tokenizer(texts, **self.special_kwargs(texts[0]))["input_ids"]

    def char_start(self, text: str, n_tokens: int) -> int:
        """Character offset in `text` where its encoding's token `n_tokens` begins: where
        the kept text starts when that many tokens are cut from the left."""
        if self.tokenizer.is_fast:
            enc = self.tokenizer(text, return_offsets_mapping=True, **self.special_kwargs(text))
            offsets = enc["offset_mapping"]
            if n_tokens >= len(offsets):
                return len(text)
            return int(offsets[n_tokens][0])
        ids = self.encode_text(text)
        return len(self.tokenizer.decode(ids[:n_tokens], skip_special_tokens=True))

    @property
    def prefix_ids(self) -> list[int]:
        """BOS whenever the tokenizer defines one: only the `separate` encoding uses this."""
        bos = self.tokenizer.bos_token_id
        return [bos] if bos is not None else []

    @property
    def prefix_token_id(self) -> int | None:
        """What an empty context is replaced by (lm-eval: BOS, else EOS)."""
        bos = self.tokenizer.bos_token_id
        return bos if bos is not None else self.tokenizer.eos_token_id

    @property
    def max_length(self) -> int:
        if self.window:
            return self.window
        cfg = getattr(self.model.config, "text_config", None) or self.model.config
        for name in WINDOW_FIELDS:
            value = getattr(cfg, name, None)
            if value is not None:
                return int(value)
        limit = getattr(self.tokenizer, "model_max_length", None)
        if limit is not None and limit < _NO_LIMIT:
            return int(limit)
        return DEFAULT_WINDOW


def resolve_device(device: str) -> str:
    """`auto`: the GPU when torch sees one, else the CPU."""
    torch = require("torch", "train")
    if device not in DEVICES and not device.startswith("cuda:"):
        raise UsageError(f"unknown device '{device}'", hint=f"choose one of: {', '.join(DEVICES)}")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"device {device} was asked for but no CUDA GPU is visible",
                         hint="pass --device cpu (or auto)")
    return device


def load_local_model(model_dir: str | Path, device: str = "auto", dtype: str = "float32",
                     max_length: int | None = None) -> LocalModel:
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
    model.to(resolve_device(device))
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return LocalModel(model=model, tokenizer=tokenizer, path=str(path), window=max_length)
