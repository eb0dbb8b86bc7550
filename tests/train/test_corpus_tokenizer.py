"""Tokenizer at corpus scale: a sampled SentencePiece vocabulary with unsuitable pieces removed.

The corpus repeats NG words and URLs so often that SentencePiece learns them as pieces (the
`--keep-unsuitable` run shows it); after removal none survives, and text holding them still
round-trips through byte fallback."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from tests.corpus.conftest import write_jsonl
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.corpus.rules import NGWords
from oshie.corpus.synthetic import sample_sentences
from oshie.train.corpus_tokenizer import unsuitable_reason

pytest.importorskip("sentencepiece")
runner = CliRunner()
URL_FRAGMENTS = ("http", "www", "://", ".com", ".html", "<div", "&nbsp;", "&amp;")
NEAR_MISSES = ("コロンブス", "カスタム")  # hold the NG words ブス and カス inside a katakana word: kept
PLANTED_NG = ("くそったれ", "クソババア")


def _corpus(root: Path) -> Path:
    """Sample sentences with planted NG words, URLs and markup, and the near misses, each in
    varied company (a string that always comes with the same neighbours is never a candidate
    piece on its own)."""
    rnd = random.Random(0)
    sents = sample_sentences()
    particles = ("は", "が", "を", "の", "も", "と", "で", "に", "や", "から")
    planted = [
        lambda: f"詳しくは https://www.{rnd.choice(('example', 'shop', 'news', 'blog'))}.com/{rnd.randint(1, 99)}/"
                f"index.html をご覧ください",
        lambda: f"<div class=\"{rnd.choice(('menu', 'nav', 'footer'))}\">{rnd.choice(sents)[:6]}</div>&nbsp;&amp;",
        lambda: f"{rnd.choice(('この', 'あの', 'おい', 'まったく'))}くそったれ{rnd.choice(particles)}",
        lambda: f"{rnd.choice(('あの', 'うるさい', 'ほら'))}クソババア{rnd.choice(particles)}",
        lambda: f"すごい{'w' * rnd.randint(5, 9)}{'ー' * rnd.randint(5, 8)}",
    ]
    near = [lambda: f"{rnd.choice(sents)[:4]}コロンブス{rnd.choice(particles)}",
            lambda: f"{rnd.choice(sents)[:4]}カスタム{rnd.choice(particles)}"]
    rows = []
    for i in range(400):
        parts = [*rnd.sample(sents, 3), rnd.choice(planted)(), rnd.choice(planted)(), rnd.choice(near)()]
        rnd.shuffle(parts)
        rows.append({"id": str(i), "text": "".join(parts), "source": "web" if i % 2 else "blog"})
    return write_jsonl(root / "corpus.jsonl", rows)


def _token_texts(tok_dir: Path) -> list[str]:
    """Every vocabulary entry as the text it stands for (byte-level BPE tokens decoded)."""
    from tokenizers import Tokenizer

    backend = Tokenizer.from_file(str(tok_dir / "tokenizer.json"))
    vocab = backend.get_vocab(with_added_tokens=True)
    return [backend.decoder.decode([p]) for p in sorted(vocab, key=vocab.__getitem__)]


def test_reasons_on_single_pieces_and_near_misses() -> None:
    ng = NGWords()
    assert unsuitable_reason("▁https", ng) == "url_markup"
    assert unsuitable_reason(".html", ng) == "url_markup"
    assert unsuitable_reason("クソ野郎", ng) == "ng_word"
    assert unsuitable_reason("wwww", ng) == "char_run"
    assert unsuitable_reason("ーーーー", ng) == "char_run"
    assert unsuitable_reason("Windowsの", ng) == "script_mix"
    assert unsuitable_reason("。今日", ng) == "script_mix"
    for fine in ("データ分析", "食べました", "ーー", "Windows", "2024年", "▁the", "「東京」", "httpd"[:3]):
        assert unsuitable_reason(fine, ng) is None, fine


@pytest.mark.parametrize("kind", ["sp-unigram", "sp-bpe", "bpe"])
def test_no_ng_word_or_url_fragment_survives(tmp_path: Path, kind: str) -> None:
    corpus = _corpus(tmp_path)
    keep = runner.invoke(app, ["tokenizer", "train-corpus", str(corpus), "-o", str(tmp_path / "kept"), "-v", "3000",
                               "-t", kind, "--keep-unsuitable", "--json"])
    assert keep.exit_code == 0, keep.output
    result = runner.invoke(app, ["tokenizer", "train-corpus", str(corpus), "-o", str(tmp_path / "clean"), "-v", "3000",
                                 "-t", kind, "--json"])
    assert result.exit_code == 0, result.output

    ng = NGWords()
    before = _token_texts(tmp_path / "kept")
    bad_before = [t for t in before if unsuitable_reason(t, ng)]
    assert any(unsuitable_reason(t, ng) == "url_markup" for t in bad_before)  # the trainer did learn them
    assert any(unsuitable_reason(t, ng) == "ng_word" for t in bad_before)
    after = _token_texts(tmp_path / "clean")
    for text in after:
        assert not ng.lengths(text), text
        assert not any(f in text.lower() for f in URL_FRAGMENTS), text
    for word in PLANTED_NG:  # checked literally: the word-boundary rules of running text do not apply
        assert not any(word in text for text in after), word
    report = json.loads((tmp_path / "clean" / "tokenizer_report.json").read_text())
    for word in NEAR_MISSES:  # learnt, and not taken for the NG word inside it
        fine = [t for t in before if word in t and not unsuitable_reason(t, ng)]
        assert fine, word
        if kind == "sp-unigram":
            assert set(fine) <= set(after), word
        else:  # BPE builds カスタム from the removed カス: it goes with the merge, reported as such
            lost = set(fine) - set(after)
            assert lost <= set(report["removed"].get("built_from_removed", {}).get("pieces", [])), word
    removed = {t for r in report["removed"].values() for t in r["pieces"]}
    assert removed == set(before) - set(after)  # the report lists exactly what is gone
    assert {"url_markup", "ng_word"} <= set(report["removed"])
    assert report["vocab_size"] == len(after)
    assert report["vocab_size_trained"] - report["vocab_size"] == len(removed)
    assert set(report["fertility"]) == {"web", "blog"}

    from oshie.train.tokenizer import load_tokenizer

    tok = load_tokenizer(tmp_path / "clean")
    text = "詳しくは https://www.example.com/ をご覧ください。<div>&nbsp;このクソ野郎"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == text
    assert not any(f in tok.decode([i]).lower() for i in ids for f in ("http", "www", "<div", "&nbsp;"))
