"""`oshie corpus mix`: token shares per source and language, seeded, achieved vs requested."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.corpus.conftest import write_jsonl
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.corpus.mix import MixConfig, detect_lang, rates_for
from oshie.errors import ConfigError

runner = CliRunner()


def _mix(inputs: Path, out: Path, *args: str) -> dict:
    result = runner.invoke(app, ["corpus", "mix", str(inputs), "-o", str(out), "-j", "1", *args])
    assert result.exit_code == 0, result.output
    return json.loads((out / "manifest.json").read_text())


def test_mix_by_source_reaches_the_requested_shares_and_is_seeded(small_corpus: Path, tmp_path: Path) -> None:
    m = _mix(small_corpus, tmp_path / "a", "-t", "web=0.2", "-t", "news=0.8", "--seed", "3")
    groups = m["mix"]["groups"]
    assert groups["news"]["rate"] == 1.0  # the scarce group is taken whole
    assert abs(groups["web"]["achieved"] - 0.2) < 0.05 and abs(groups["news"]["achieved"] - 0.8) < 0.05
    t = m["totals"]
    assert t["in"] == t["kept"] + t["rejected"] + t["quarantined"] == 120
    same = _mix(small_corpus, tmp_path / "b", "-t", "web=0.2", "-t", "news=0.8", "--seed", "3")
    _mix(small_corpus, tmp_path / "c", "-t", "web=0.2", "-t", "news=0.8", "--seed", "4")
    ids = {k: sorted(r["id"] for r in pq.read_table(tmp_path / k / "kept").to_pylist()) for k in "abc"}
    assert ids["a"] == ids["b"] != ids["c"]  # the seed decides which web documents are taken
    assert same["mix"]["groups"] == m["mix"]["groups"]


def test_upsampling_repeats_documents_with_new_ids(small_corpus: Path, tmp_path: Path) -> None:
    m = _mix(small_corpus, tmp_path / "up", "-t", "web=0.5", "-t", "news=0.5", "--max-repeat", "3",
             "--total-tokens", str(150_000))
    assert m["mix"]["repeats"] > 0
    ids = [r["id"] for r in pq.read_table(tmp_path / "up" / "kept").to_pylist()]
    assert len(ids) == len(set(ids)) and any("#1" in i for i in ids)
    assert abs(m["mix"]["total_tokens"] - 150_000) / 150_000 < 0.15


def test_by_language_with_a_tokenizer(tmp_path: Path, tiny_tokenizer_dir: Path) -> None:
    rows = [{"text": "今日は晴れています。散歩に行きましょう。" * 3}] * 20
    rows += [{"text": "The weather is fine today and we walk in the park."}] * 20
    rows += [{"text": "def f(x):\n    return x + 1\nfor i in range(3):\n    print(f(i))"}] * 20
    rows += [{"text": "Bonjour", "lang": "fr"}] * 5
    write_jsonl(tmp_path / "in" / "mixed.jsonl", rows)
    m = _mix(tmp_path / "in", tmp_path / "out", "--by", "lang", "-t", "ja=0.5", "-t", "en=0.3", "-t", "code=0.2",
             "--tokenizer", str(tiny_tokenizer_dir))
    g = m["mix"]["groups"]
    assert set(g) == {"ja", "en", "code", "fr"} and g["fr"]["tokens"] == 0
    for lang, share in (("ja", 0.5), ("en", 0.3), ("code", 0.2)):
        assert abs(g[lang]["achieved"] - share) < 0.1, (lang, g[lang])
    assert m["mix"]["tokenizer"] == str(tiny_tokenizer_dir)


def test_detect_lang_and_impossible_targets() -> None:
    assert detect_lang("東京は日本の首都です。") == "ja"
    assert detect_lang("Tokyo is the capital of Japan.") == "en"
    assert detect_lang("x = [1, 2]\nprint(x)") == "code"
    with pytest.raises(ConfigError, match=r"needs 4\.00x repetition"):
        rates_for({"a": 100, "b": 100}, MixConfig(targets={"a": 0.8, "b": 0.2}, total_tokens=500))
    with pytest.raises(ConfigError, match="no documents in group"):
        rates_for({"a": 100}, MixConfig(targets={"a": 0.5, "zz": 0.5}))
