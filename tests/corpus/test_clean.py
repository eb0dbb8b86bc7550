"""`oshie corpus clean`: presets, reasons on every rejected document, overrides, boilerplate, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.config import load_config
from oshie.corpus.boilerplate import is_boilerplate_line
from oshie.corpus.clean import clean_batch
from oshie.corpus.filters import Compose, DocView
from oshie.corpus.presets import CleanConfig, build_filters
from oshie.corpus.rules import DuplicateNgrams, TopNgrams
from oshie.corpus.synthetic import clean_document, dirty_document
from oshie.errors import ConfigError, UsageError

runner = CliRunner()


def _rows(path: Path) -> list[dict]:
    return [r for f in sorted(path.glob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def test_planted_defects_are_dropped_with_their_reason_and_clean_text_is_kept() -> None:
    import random

    rnd = random.Random(3)
    compose = Compose(build_filters(CleanConfig()))
    expected = {"short": "letters", "katakana": "hiragana", "latin": "japanese", "ellipsis": "ellipsis_lines",
                "ng_words": "ng_words", "repeat_lines": "dup_paragraphs", "long_sentence": "sentence_length"}
    for defect, code in expected.items():
        _, reason = compose(dirty_document(rnd, defect))
        assert reason is not None and reason.split(":")[0] == code, (defect, reason)
    kept = sum(compose(clean_document(rnd))[1] is None for _ in range(20))
    assert kept >= 10  # the sample corpus repeats phrases, so some clean documents are near the n-gram limits


def test_repetition_rules_on_near_misses() -> None:
    """An n-gram repeated just under the limit passes; just over it fails."""
    filler = "".join(chr(0x4E00 + i) for i in range(400))  # 400 distinct kanji: no repeats
    just_under = filler[:376] + "あいうえおか" * 4  # 24 repeated characters out of 400 = 0.06
    assert DuplicateNgrams({5: 0.15}).apply(DocView(just_under)) is None
    over = filler[:320] + "あいうえおか" * 14  # 84 of 404 = 0.21
    assert DuplicateNgrams({5: 0.15}).apply(DocView(over)).startswith("duplicate 5-grams")
    assert TopNgrams({2: 0.20}).apply(DocView(filler + "ab" * 45)) is None  # 45 × 2 / 490 = 0.18
    assert TopNgrams({2: 0.20}).apply(DocView(filler + "ab" * 60)) is not None  # 120 / 520 = 0.23


def test_boilerplate_lines_and_site_repeated_lines() -> None:
    assert is_boilerplate_line("ホーム | 会社概要 | お問い合わせ")
    assert is_boilerplate_line("Copyright © 2024 Example Inc. All Rights Reserved.")
    assert not is_boilerplate_line("ホームで電車を待ちながら、会社の同僚と話した。")  # a navigation word inside prose
    assert not is_boilerplate_line("東京 | 大阪 | 名古屋")  # a list without navigation words
    bodies = [clean_document(__import__("random").Random(i)) for i in range(3)]  # different pages
    docs = [{"id": str(i), "text": f"今週のおすすめ商品一覧\n{bodies[i]}\nホーム | サイトマップ", "source": "s",
             "meta": json.dumps({"url": f"https://shop.example.jp/{i}"})} for i in range(3)]
    kept, rejected, stats = clean_batch(docs, CleanConfig(disable=["dup_ngrams", "top_ngrams", "dup_sentences"]))
    assert not rejected
    assert all("おすすめ商品一覧" not in d["text"] and "サイトマップ" not in d["text"] for d in kept)
    assert stats["boilerplate"]["hits"] == 3 and stats["boilerplate"]["dropped"] == 0
    # one page of another host keeps its line: repetition is counted per site
    other = [{**docs[0], "meta": json.dumps({"url": "https://other.example.jp/1"})}]
    kept, _, _ = clean_batch(other, CleanConfig(disable=["dup_ngrams", "top_ngrams", "dup_sentences"]))
    assert "おすすめ商品一覧" in kept[0]["text"]


def test_thresholds_overridable_in_yaml_with_errors_naming_the_key(tmp_path: Path) -> None:
    cfg_file = tmp_path / "clean.yaml"
    cfg_file.write_text("preset: swallow-v1\nswallow:\n  min_letters: 10\n  top_ngrams: {2: 0.5}\n", encoding="utf-8")
    cfg = load_config(CleanConfig, cfg_file, ["swallow.max_katakana=0.9"])
    assert (cfg.swallow.min_letters, cfg.swallow.top_ngrams, cfg.swallow.max_katakana) == (10, {2: 0.5}, 0.9)
    cfg_file.write_text("swallow:\n  min_leters: 10\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(CleanConfig, cfg_file)
    assert "min_leters" in str(err.value) and "line 2" in str(err.value) and "min_letters" in str(err.value)
    with pytest.raises(ConfigError, match="unknown filter code"):
        build_filters(CleanConfig(disable=["nope"]))


def test_cli_clean_both_presets_every_reject_has_a_reason_and_resume(small_corpus: Path, tmp_path: Path) -> None:
    for preset in ("swallow-v1", "llm-jp-v1"):
        out = tmp_path / preset
        result = runner.invoke(app, ["corpus", "clean", str(small_corpus), "-o", str(out), "--preset", preset, "-j", "1"])
        assert result.exit_code == 0, result.output
        kept, rejected = _rows(out / "kept"), _rows(out / "rejected")
        assert len(kept) + len(rejected) == 120 and kept and rejected
        assert all(r["reason"] for r in rejected)
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["config"]["clean"]["preset"] == preset
        assert set(manifest["by_source"]) == {"web", "news"}
        assert manifest["by_source"]["web"]["in_docs"] == 60
    swallow = {r["id"]: r["reason"] for r in _rows(tmp_path / "swallow-v1" / "rejected")}
    defects = {json.loads(r["meta"])["defect"] for r in _rows(tmp_path / "swallow-v1" / "kept")}
    assert "short" not in defects and "katakana" not in defects and swallow
    # rerun: every shard is finished already
    again = runner.invoke(app, ["corpus", "clean", str(small_corpus), "-o", str(tmp_path / "swallow-v1"), "-j", "1", "--json"])
    assert again.exit_code == 0
    assert json.loads((tmp_path / "swallow-v1" / "manifest.json").read_text())["resumed"] == 2


def test_cli_refuses_output_over_input(small_corpus: Path) -> None:
    result = runner.invoke(app, ["corpus", "clean", str(small_corpus / "web"), "-o", str(small_corpus)])
    assert isinstance(result.exception, UsageError) and result.exception.exit_code == 2
    assert "inside the output directory" in str(result.exception)


def test_stats_and_generate_commands(tmp_path: Path) -> None:
    gen = runner.invoke(app, ["corpus", "generate", "-o", str(tmp_path / "g"), "-n", "20"])
    assert gen.exit_code == 0, gen.output
    result = runner.invoke(app, ["corpus", "stats", str(tmp_path / "g"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)["sources"]
    assert set(data) == {"web", "news"} and data["web"]["documents"] == 20
    assert data["web"]["chars"] == data["web"]["tokens"] > 0
