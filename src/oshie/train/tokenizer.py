"""Japanese-ready tokenizers saved as Hugging Face tokenizer directories.

Byte-level BPE (`tokenizers`) by default: every byte is representable, so no Japanese
character is ever unknown. SentencePiece unigram or BPE with byte fallback is the
alternative (`sp-unigram`, `sp-bpe`): rare kanji fall back to bytes instead of `<unk>`.
ChatML special tokens, a pad token and the ChatML training template are always added.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from oshie.console import console, is_quiet
from oshie.errors import ModelError, UsageError, require
from oshie.train.token_removal import PieceRemoval

__all__ = [
    "EOS",
    "IM_END",
    "IM_START",
    "PAD",
    "SPECIAL_TOKENS",
    "TOKENIZER_TYPES",
    "UNK",
    "Fertility",
    "TokenizerType",
    "fertility",
    "load_tokenizer",
    "split_holdout",
    "train_bpe_tokenizer",
    "train_sentencepiece_tokenizer",
    "train_tokenizer",
]


IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
PAD = "<|pad|>"
EOS = "<|endoftext|>"
UNK = "<unk>"
SPECIAL_TOKENS = [EOS, PAD, IM_START, IM_END]
TokenizerType = Literal["bpe", "sp-unigram", "sp-bpe"]
TOKENIZER_TYPES: tuple[str, ...] = ("bpe", "sp-unigram", "sp-bpe")


def _finish(backend: Any, unk_token: str | None, out_dir: str | Path) -> Path:
    """Wrap a trained `tokenizers` backend with the ChatML special tokens and template; save it."""
    transformers = require("transformers", "train")
    from oshie.train.templates import chatml_template

    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=None,
        eos_token=IM_END,
        pad_token=PAD,
        unk_token=unk_token,
        additional_special_tokens=[IM_START, IM_END, EOS],
    )
    fast.chat_template = chatml_template()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(out)
    return out


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: str | Path, *,
                        removal: PieceRemoval | None = None) -> Path:
    """Train a byte-level BPE tokenizer on `texts` and save it under `out_dir`; `removal`
    drops unsuitable tokens and the merges built on them (`oshie.train.token_removal`)."""
    tokenizers = require("tokenizers", "train")
    require("transformers", "train")  # needed to save: fail before training
    from tokenizers import decoders, models, pre_tokenizers, trainers

    tok = tokenizers.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=not is_quiet() and console.is_terminal,  # a pipe would get blank lines
    )
    tok.train_from_iterator(texts, trainer=trainer)
    if removal is not None:
        tok = removal.apply(tok, SPECIAL_TOKENS)
    return _finish(tok, None, out_dir)  # byte-level: nothing is unknown


def train_sentencepiece_tokenizer(
    texts: Iterable[str] | None,
    vocab_size: int,
    out_dir: str | Path,
    model_type: Literal["unigram", "bpe"] = "unigram",
    *,
    input_file: str | Path | None = None,
    removal: PieceRemoval | None = None,
    add_dummy_prefix: bool = False,
) -> Path:
    """Train SentencePiece (byte fallback, no normalisation) and save it as a HF tokenizer.

    `input_file` (one sentence a line) instead of `texts` keeps a large sample out of memory;
    `removal` drops unsuitable pieces (`oshie.train.token_removal`; byte fallback still
    covers their text). `add_dummy_prefix=True` makes it behave like the
    Llama-2 / llm-jp / Swallow tokenizers: every encoded text starts with "▁", so a word
    encodes differently at the start of a text than after other text (the case
    log-likelihood scoring must get right)."""
    spm = require("sentencepiece", "train")
    require("transformers", "train")  # needed to save: fail before training
    if input_file is not None:
        source: dict[str, Any] = {"input": str(input_file), "input_sentence_size": 0, "max_sentence_length": 1 << 16}
    else:
        source = {"sentence_iterator": iter([t for t in texts or [] if t.strip()])}
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "sp")
        try:
            spm.SentencePieceTrainer.train(
                **source,
                model_prefix=prefix,
                vocab_size=vocab_size,
                model_type=model_type,
                byte_fallback=True,
                character_coverage=0.9995,
                # identity: keep the text as written (NFKC would fold full-width forms)
                normalization_rule_name="identity",
                add_dummy_prefix=add_dummy_prefix,
                remove_extra_whitespaces=False,
                allow_whitespace_only_pieces=True,
                split_digits=True,
                unk_id=0, bos_id=-1, eos_id=1, pad_id=2,
                unk_piece=UNK, eos_piece=EOS, pad_piece=PAD,
                user_defined_symbols=[IM_START, IM_END],
                hard_vocab_limit=False,
                minloglevel=2,
            )
        except RuntimeError as exc:
            raise UsageError(
                f"SentencePiece could not train: {exc}",
                field="vocab_size",
                hint="byte fallback needs 256 byte pieces plus every frequent character: "
                "raise --vocab-size or give more text",
            ) from exc
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
        backend = (
            _unigram_backend(sp, add_dummy_prefix) if model_type == "unigram"
            else _bpe_backend(prefix + ".model", add_dummy_prefix)
        )
    if removal is not None:
        backend = removal.apply(backend, [UNK, *SPECIAL_TOKENS])
    return _finish(backend, UNK, out_dir)


def _sp_decoder_pieces(add_dummy_prefix: bool = False):
    from tokenizers import decoders, normalizers, pre_tokenizers

    # bytes first: a space that fell back to bytes decodes to "▁", then becomes " "
    steps = [decoders.ByteFallback(), decoders.Fuse(), decoders.Replace("▁", " ")]
    if add_dummy_prefix:  # the "▁" put before the text is not part of it
        steps.append(decoders.Strip(" ", 1, 0))
    return (
        normalizers.Replace(" ", "▁"),
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first" if add_dummy_prefix
                                 else "never", split=False),
        decoders.Sequence(steps),
    )


def _unigram_backend(sp: Any, add_dummy_prefix: bool = False):
    from tokenizers import Tokenizer, models

    vocab = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]
    unk = sp.id_to_piece(sp.unk_id())
    tok = Tokenizer(models.Unigram(vocab, unk_id=[p for p, _ in vocab].index(unk), byte_fallback=True))
    tok.normalizer, tok.pre_tokenizer, tok.decoder = _sp_decoder_pieces(add_dummy_prefix)
    return tok


def _bpe_backend(model_file: str, add_dummy_prefix: bool = False):
    # transformers' SentencePiece extractor rebuilds the merge list (needs protobuf)
    transformers = require("transformers", "train")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "tokenizer.model").write_bytes(Path(model_file).read_bytes())
        slow = transformers.LlamaTokenizer.from_pretrained(
            tmp, add_bos_token=False, legacy=False, add_prefix_space=False, unk_token=UNK
        )
    tok = slow.backend_tokenizer
    tok.normalizer, tok.pre_tokenizer, tok.decoder = _sp_decoder_pieces(add_dummy_prefix)
    tok.post_processor = None
    return tok


def train_tokenizer(
    texts: Sequence[str], vocab_size: int, out_dir: str | Path, kind: str = "bpe"
) -> Path:
    """Train a tokenizer of `kind` ('bpe', 'sp-unigram' or 'sp-bpe')."""
    if kind == "bpe":
        return train_bpe_tokenizer(texts, vocab_size, out_dir)
    if kind in ("sp-unigram", "sp-bpe"):
        return train_sentencepiece_tokenizer(
            texts, vocab_size, out_dir, model_type=kind.removeprefix("sp-")  # type: ignore[arg-type]
        )
    raise UsageError(f"unknown tokenizer type '{kind}'", hint=f"choose one of: {', '.join(TOKENIZER_TYPES)}")


def split_holdout(texts: Sequence[str], every: int = 10) -> tuple[list[str], list[str]]:
    """Deterministic split: every `every`-th document is held out (at least one)."""
    if len(texts) < 2:
        return list(texts), list(texts)
    held = [t for i, t in enumerate(texts) if i % every == every - 1] or [texts[-1]]
    train = [t for i, t in enumerate(texts) if i % every != every - 1] if len(held) > 0 else list(texts)
    return train or list(texts), held


@dataclass
class Fertility:
    """How many characters one token covers on a text sample."""

    name: str
    vocab_size: int
    characters: int
    tokens: int
    unknown_tokens: int

    @property
    def chars_per_token(self) -> float:
        """Characters per token: higher means a cheaper, longer effective context."""
        return self.characters / self.tokens if self.tokens else 0.0

    @property
    def tokens_per_1k_chars(self) -> float:
        """Tokens per 1,000 characters, the usual way to compare Japanese tokenizers."""
        return 1000 * self.tokens / self.characters if self.characters else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures for the comparison table."""
        return asdict(self) | {"chars_per_token": round(self.chars_per_token, 3),
                               "tokens_per_1k_chars": round(self.tokens_per_1k_chars, 1)}


def load_tokenizer(path: str | Path) -> Any:
    """A tokenizer saved by oshie (or any HF tokenizer directory), with a clear error if absent."""
    transformers = require("transformers", "train")
    p = Path(path)
    if not p.is_dir():
        raise ModelError("tokenizer directory not found", path=p)
    if not any((p / f).exists() for f in ("tokenizer.json", "tokenizer.model", "vocab.json")):
        raise ModelError(
            "no tokenizer files here (tokenizer.json, tokenizer.model or vocab.json)",
            path=p,
            hint="pass a directory made by 'oshie tokenizer train' or a local model directory",
        )
    return transformers.AutoTokenizer.from_pretrained(str(p))


def fertility(tokenizer: Any, texts: Sequence[str], name: str = "") -> Fertility:
    """Characters per token on `texts` (special tokens not added)."""
    chars = sum(len(t) for t in texts)
    enc = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    unk = tokenizer.unk_token_id
    n_unk = sum(ids.count(unk) for ids in enc) if unk is not None else 0
    return Fertility(name, len(tokenizer), chars, sum(len(ids) for ids in enc), n_unk)
