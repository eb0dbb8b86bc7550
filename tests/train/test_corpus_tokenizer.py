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
URL_FRAGMENTS = ("http", "www", ".com", ".html", "://", "<div", "&amp;")


def _corpus(root: Path) -> Path:
    rnd = random.Random(0)
    sents = sample_sentences()
    rows = []
    for i in range(400):
        extra = rnd.choice([
            "詳しくは https://www.example.com/news/index.html をご覧ください。",
            "<div class=\"menu\">ホーム</div>&amp;",
            "このクソ野郎、くそったれ！",
            "すごいwwwwwwww本当にすごいーーーーーー",
        ])
        rows.append({"id": str(i), "text": "".join(rnd.sample(sents, 4)) + extra, "source": "web" if i % 2 else "blog"})
    return write_jsonl(root / "corpus.jsonl", rows)


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


def test_no_ng_word_or_url_fragment_survives(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    keep = runner.invoke(app, ["tokenizer", "train-corpus", str(corpus), "-o", str(tmp_path / "kept"), "-v", "1500",
                               "--keep-unsuitable", "--json"])
    assert keep.exit_code == 0, keep.output
    result = runner.invoke(app, ["tokenizer", "train-corpus", str(corpus), "-o", str(tmp_path / "clean"), "-v", "1500", "--json"])
    assert result.exit_code == 0, result.output

    def pieces(d: Path) -> list[str]:
        return list(json.loads((d / "tokenizer.json").read_text())["model"]["vocab"])

    ng = NGWords()
    bad_before = [p[0] for p in pieces(tmp_path / "kept") if unsuitable_reason(p[0], ng)]
    assert any(unsuitable_reason(p, ng) == "url_markup" for p in bad_before)  # SentencePiece did learn them
    assert any(unsuitable_reason(p, ng) in ("ng_word", "char_run") for p in bad_before)
    after = [p[0].replace("▁", " ") for p in pieces(tmp_path / "clean")]
    for piece in after:
        assert not ng.lengths(piece), piece
        assert not any(f in piece.lower() for f in URL_FRAGMENTS), piece
    report = json.loads((tmp_path / "clean" / "tokenizer_report.json").read_text())
    assert report["removed"]["url_markup"]["count"] >= 1
    assert set(report["removed"]["url_markup"]["pieces"]) <= set(bad_before)
    assert set(report["fertility"]) == {"web", "blog"}

    from oshie.train.tokenizer import load_tokenizer

    tok = load_tokenizer(tmp_path / "clean")
    text = "詳しくは https://www.example.com/ をご覧ください。このクソ野郎"
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text
