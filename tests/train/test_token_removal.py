"""Removing pieces from trained tokenizers: a unigram vocabulary loses the piece; a BPE model
loses the token, every merge that makes or uses it and every token only those merges made,
and stays a consistent model that still encodes every text."""

from __future__ import annotations

import json

import pytest

from oshie.errors import UsageError
from oshie.train.token_removal import CASCADE, PieceRemoval

pytest.importorskip("tokenizers")
TEXTS = [f"詳しくは https://www.example{i % 7}.com/page{i} をご覧ください。東京の天気は晴れです。" for i in range(300)]


def _flag_http(text: str) -> str | None:
    return "url_markup" if "http" in text else None


def _byte_level_bpe():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>", "<|pad|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(TEXTS, trainer=trainer)
    return tok


def test_bpe_removal_drops_merges_and_what_was_built_on_them() -> None:
    tok = _byte_level_bpe()
    before = {tok.decoder.decode([p]) for p in tok.get_vocab()}
    assert any("http" in t for t in before)
    removal = PieceRemoval(_flag_http)
    pruned = removal.apply(tok, ["<|endoftext|>", "<|pad|>"])

    model = json.loads(pruned.to_str())["model"]
    vocab, merges = model["vocab"], model["merges"]
    assert sorted(vocab.values()) == list(range(len(vocab)))  # ids renumbered without gaps
    assert vocab["<|endoftext|>"] == 0 and vocab["<|pad|>"] == 1
    for a, b in merges:  # consistent: both inputs and the result exist
        assert a in vocab and b in vocab and a + b in vocab
    after = {pruned.decoder.decode([p]) for p in vocab}
    assert not any("http" in t for t in after)
    removed = {t for pieces in removal.removed.values() for t in pieces}
    assert removed == before - after
    assert any("http" in t for t in removal.removed["url_markup"])
    # a token built on "http" without being flagged itself, if the trainer made one, is a cascade
    assert all("http" not in t for t in removal.removed.get(CASCADE, []))
    text = "詳しくは https://www.example3.com/page42 をご覧ください。"
    enc = pruned.encode(text)
    assert pruned.decode(enc.ids) == text
    assert not any("http" in pruned.decoder.decode([t]) for t in enc.tokens)
    assert len(enc.ids) > len(tok.encode(text).ids)  # the URL now takes more, shorter tokens


def test_unigram_removal_keeps_bytes_and_special_pieces() -> None:
    from tokenizers import Tokenizer, decoders, models

    vocab = [("<unk>", 0.0), ("<|pad|>", 0.0), ("<0x68>", 0.0), ("http", -1.0), ("h", -2.0), ("t", -2.0),
             ("p", -2.0), ("天気", -1.5), ("天", -3.0), ("気", -3.0)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=0, byte_fallback=True))
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Fuse()])
    removal = PieceRemoval(lambda t: "url_markup" if "h" in t else None)  # would match <0x68> = "h" too
    pruned = removal.apply(tok, ["<|pad|>"])
    kept = [p for p, _ in json.loads(pruned.to_str())["model"]["vocab"]]
    assert kept == ["<unk>", "<|pad|>", "<0x68>", "t", "p", "天気", "天", "気"]
    assert removal.removed == {"url_markup": ["http", "h"]}
    assert pruned.decode(pruned.encode("http天気").ids) == "http天気"


def test_other_models_are_refused_clearly() -> None:
    from tokenizers import Tokenizer, models

    tok = Tokenizer(models.WordLevel({"<unk>": 0, "a": 1}, unk_token="<unk>"))
    with pytest.raises(UsageError, match="not supported for WordLevel"):
        PieceRemoval(_flag_http).apply(tok)
