"""Randomly initialised Llama-architecture models sized from a preset.

Tests, the quickstart and ablation studies use these; real users pass their own
local model directory instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oshie.errors import UsageError, require

__all__ = ["PRESETS", "describe_model", "init_model", "parse_fields"]


PRESETS: dict[str, dict[str, Any]] = {
    # ~0.3M non-embedding params: trains in seconds on a CPU
    "tiny": dict(hidden_size=128, intermediate_size=344, num_hidden_layers=4,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512),
    # ~6M: still CPU-friendly
    "small": dict(hidden_size=256, intermediate_size=688, num_hidden_layers=6,
                  num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=1024),
    # ~50M with a 32k vocabulary
    "base": dict(hidden_size=512, intermediate_size=1376, num_hidden_layers=8,
                 num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=2048),
}


def init_model(
    tokenizer_dir: str | Path,
    out_dir: str | Path,
    preset: str = "tiny",
    seed: int = 0,
    **overrides: Any,
) -> Path:
    """Create a random Llama for the tokenizer in `tokenizer_dir`; save model + tokenizer."""
    torch = require("torch", "train")
    transformers = require("transformers", "train")
    if preset not in PRESETS:
        raise UsageError(f"unknown preset '{preset}'", hint=f"choose one of: {', '.join(PRESETS)}")
    from oshie.train.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(tokenizer_dir)
    unknown = sorted(set(overrides) - set(transformers.LlamaConfig().to_dict()))
    if unknown:
        raise UsageError(f"unknown model field '{unknown[0]}'",
                         hint="use LlamaConfig fields such as hidden_size, num_hidden_layers, "
                         "num_attention_heads, intermediate_size, max_position_embeddings")
    fields = {**PRESETS[preset], **overrides}
    if fields["hidden_size"] % fields["num_attention_heads"]:
        raise UsageError(
            f"hidden_size {fields['hidden_size']} is not divisible by num_attention_heads "
            f"{fields['num_attention_heads']}", field="hidden_size")
    if fields["num_attention_heads"] % fields.get("num_key_value_heads", fields["num_attention_heads"]):
        raise UsageError("num_attention_heads must be a multiple of num_key_value_heads",
                         field="num_key_value_heads")
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
        tie_word_embeddings=True,
        **fields,
    )
    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(seed)
    model = transformers.LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


def parse_fields(pairs: list[str]) -> dict[str, Any]:
    """['hidden_size=192', 'rms_norm_eps=1e-5'] -> {'hidden_size': 192, 'rms_norm_eps': 1e-05}."""
    from oshie.config import parse_override

    return dict(parse_override(p) for p in pairs)


def describe_model(model_dir: str | Path) -> dict[str, Any]:
    """Size and shape of a saved model, for printing."""
    transformers = require("transformers", "train")
    from safetensors import safe_open

    config = transformers.AutoConfig.from_pretrained(str(model_dir))
    n = 0
    with safe_open(str(Path(model_dir) / "model.safetensors"), "pt") as fh:
        for key in fh.keys():
            n += _numel(fh.get_slice(key).get_shape())
    return {
        "architecture": (config.architectures or ["?"])[0],
        "parameters": f"{n / 1e6:.2f}M",
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size,
        "layers": config.num_hidden_layers,
        "heads (kv)": f"{config.num_attention_heads} ({config.num_key_value_heads})",
        "max_position_embeddings": config.max_position_embeddings,
    }


def _numel(shape: list[int]) -> int:
    total = 1
    for d in shape:
        total *= d
    return total
