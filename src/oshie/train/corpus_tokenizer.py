"""Tokenizers at corpus scale: SentencePiece on a character sample of a corpus directory, then
the removal of pieces a Japanese model should not have.

The sample is drawn in two streaming passes over the shards (count, then keep each line with
probability sample_chars / total chars, decided by a hash of its position and the seed), so
neither the corpus nor the sample is held in memory: SentencePiece reads the sample file.
Unsuitable pieces (`unsuitable_reason`) are removed from the trained vocabulary by
`oshie.train.token_removal` (unigram: dropped, byte fallback covers their text; BPE: dropped
with the merges that make or use them). The report lists every removed piece by reason, and the fertility
of the tokenizer on held-out documents per source.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from oshie.corpus.rules import NGWords
from oshie.corpus.streams import Quarantined, list_shards, read_shard
from oshie.errors import UsageError
from oshie.ja.chars import char_class

_URL = re.compile(r"(?i)(?:https?|ftp|www|://|\.(?:com|net|org|jp|html?|php|aspx?)\b|</?[a-z]|&[a-z]+;|&#\d+;|"
                  r"\b(?:href|src|class|div|span|http)\b|\[\[|\]\]|\{\{|\}\})")


@lru_cache(maxsize=4)
def _long_entries(ng: NGWords) -> tuple[str, ...]:
    return tuple(w for w in ng.literals or () if len(w) >= 4)


def unsuitable_reason(piece: str, ng: NGWords, max_run: int = 3) -> str | None:
    """Why a piece should not be in the vocabulary, or None.

    - `ng_word`: contains an NG word (the audit's lists and their word-boundary rules, so
      "コロンブス" stays although "ブス" is listed), or any listed word of 4+ characters
      anywhere: a piece's edges are arbitrary, so "このくそったれを" counts although in
      running text a kana entry only matches between characters of another kind;
    - `url_markup`: a URL or markup fragment (http, www, .com, </tag, &amp;, {{ ...);
    - `char_run`: more than `max_run` of one character in a row (ーーーー, wwww, ！！！！);
    - `script_mix`: Latin letters joined to kana/kanji, or a sentence end (。！？) joined to
      the letters of the next sentence: shapes running Japanese text never has in one word."""
    text = piece.replace("▁", " ").strip()
    if not text:
        return None
    if ng.lengths(text) or any(w in text for w in _long_entries(ng)):
        return "ng_word"
    if re.search(rf"(.)\1{{{max_run},}}", text):
        return "char_run"
    if _URL.search(text):
        return "url_markup"
    classes = {char_class(c) for c in text}
    if "latin" in classes and classes & {"hiragana", "katakana", "kanji"}:
        return "script_mix"
    if re.search(r"[。！？][ぁ-んァ-ヶ一-龯A-Za-z]", text):
        return "script_mix"
    return None


def _keep_line(seed: int, shard: int, number: int, rate: float) -> bool:
    if rate >= 1.0:
        return True
    h = hashlib.blake2b(f"{seed}:{shard}:{number}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") / 2**64 < rate


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def write_sample(inputs: list[Path], sample_chars: int, out_file: Path, *, seed: int = 0,
                 text_field: str = "text", held_per_source: int = 200) -> dict[str, Any]:
    """Write about `sample_chars` characters of lines to `out_file`; documents whose hash puts
    them in the held-out bucket (1 in 50) are never sampled and feed the fertility report."""
    shards = list_shards(inputs)
    total = 0
    for i, shard in enumerate(shards):
        for d in read_shard(shard, text_field=text_field):
            if not isinstance(d, Quarantined) and not _keep_line(seed + 1, i, hash_id(d["id"]), 1 / 50):
                total += sum(len(ln) for ln in _lines(d["text"]))
    rate = min(1.0, sample_chars / max(total, 1))
    written = lines = 0
    held: dict[str, list[str]] = {}
    with open(out_file, "w", encoding="utf-8") as fh:
        for i, shard in enumerate(shards):
            number = 0
            for d in read_shard(shard, text_field=text_field):
                if isinstance(d, Quarantined):
                    continue
                if _keep_line(seed + 1, i, hash_id(d["id"]), 1 / 50):
                    bucket = held.setdefault(d["source"], [])
                    if len(bucket) < held_per_source:
                        bucket.append(d["text"])
                    continue
                for ln in _lines(d["text"]):
                    number += 1
                    if _keep_line(seed, i, number, rate):
                        fh.write(ln + "\n")
                        written += len(ln)
                        lines += 1
    return {"corpus_chars": total, "sample_chars": written, "sample_lines": lines, "rate": round(rate, 6),
            "held_out": held}


def hash_id(doc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=6).digest(), "little")


def train_corpus_tokenizer(inputs: list[Path], out_dir: Path, *, vocab_size: int = 50_000,
                           sample_chars: int = 300_000_000, remove: bool = True, max_run: int = 3,
                           seed: int = 0, text_field: str = "text", kind: str = "sp-unigram") -> dict[str, Any]:
    """Sample, train a `kind` tokenizer (sp-unigram, sp-bpe or bpe) and remove unsuitable pieces.

    The vocabulary size is the trainer's before removal minus the removed pieces (for BPE
    including the tokens built from them); `vocab_size_trained` below the request means the
    text held too few distinct pieces (SentencePiece's limit is soft here)."""
    from oshie.train.token_removal import PieceRemoval
    from oshie.train.tokenizer import (
        TOKENIZER_TYPES,
        fertility,
        load_tokenizer,
        train_bpe_tokenizer,
        train_sentencepiece_tokenizer,
    )

    if kind not in TOKENIZER_TYPES:
        raise UsageError(f"unknown tokenizer type '{kind}'", field="--type", hint=f"choose one of: {', '.join(TOKENIZER_TYPES)}")
    ng = NGWords()
    removal = PieceRemoval(lambda text: unsuitable_reason(text, ng, max_run)) if remove else None
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        sample_file = Path(tmp) / "sample.txt"
        sample = write_sample(inputs, sample_chars, sample_file, seed=seed, text_field=text_field)
        t_sample = time.perf_counter() - t0
        if kind == "bpe":
            with open(sample_file, encoding="utf-8") as fh:
                train_bpe_tokenizer((ln.rstrip("\n") for ln in fh), vocab_size, out_dir, removal=removal)
        else:
            train_sentencepiece_tokenizer(None, vocab_size, out_dir, kind.removeprefix("sp-"),  # type: ignore[arg-type]
                                          input_file=sample_file, removal=removal)
    tok = load_tokenizer(out_dir)
    held = sample.pop("held_out")
    removed = removal.removed if removal else {}
    n_removed = sum(len(p) for p in removed.values())
    report = {
        "type": kind, "vocab_size_requested": vocab_size, "vocab_size_trained": len(tok) + n_removed,
        "vocab_size": len(tok), "sample": sample,
        "seconds": {"sample": round(t_sample, 1), "total": round(time.perf_counter() - t0, 1)},
        "removed": {reason: {"count": len(pieces), "pieces": sorted(pieces)} for reason, pieces in sorted(removed.items())},
        "fertility": {src: fertility(tok, texts, name=src).as_dict() for src, texts in sorted(held.items()) if texts},
    }
    (out_dir / "tokenizer_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return report
