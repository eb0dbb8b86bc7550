"""Japanese-ready tokenizers saved as Hugging Face tokenizer directories.

Byte-level BPE (`tokenizers`) by default: every byte is representable, so no Japanese
character is ever unknown. ChatML special tokens and a pad token are always added.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from oshie.errors import require

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
PAD = "<|pad|>"
EOS = "<|endoftext|>"
SPECIAL_TOKENS = [EOS, PAD, IM_START, IM_END]


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: str | Path) -> Path:
    """Train a byte-level BPE tokenizer on `texts` and save it under `out_dir`."""
    tokenizers = require("tokenizers", "train")
    transformers = require("transformers", "train")
    from tokenizers import decoders, models, pre_tokenizers, trainers

    tok = tokenizers.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token=IM_END,
        pad_token=PAD,
        unk_token=None,
        additional_special_tokens=[IM_START, IM_END, EOS],
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(out)
    return out
