"""Randomly initialised Llama-architecture models sized from a preset.

Tests, the quickstart and ablation studies use these; real users pass their own
local model directory instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oshie.errors import UsageError, require

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
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tokenizer_dir))
    fields = {**PRESETS[preset], **overrides}
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
        tie_word_embeddings=True,
        **fields,
    )
    torch.manual_seed(seed)
    model = transformers.LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out
