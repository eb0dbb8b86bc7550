"""Varied generated text: deterministic from the seed, streamed to shards, and far richer in
distinct substrings than text re-using the sample corpus's sentences."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.corpus.lexicon import Lexicon, documents, write_shards
from oshie.corpus.streams import list_shards, read_shard
from oshie.corpus.synthetic import clean_document
from oshie.errors import UsageError

runner = CliRunner()


def _take(gen, chars: int) -> str:
    out, n = [], 0
    for d in gen:
        out.append(d)
        n += len(d)
        if n >= chars:
            return "\n".join(out)
    raise AssertionError("generator ended")


def _distinct_ngrams(text: str, n: int = 4) -> int:
    return len({text[i:i + n] for i in range(len(text) - n)})


def test_same_seed_same_text_other_seed_other_text() -> None:
    a = _take(documents(3, scale=0.05), 20_000)
    assert a == _take(documents(3, scale=0.05), 20_000)
    assert a != _take(documents(4, scale=0.05), 20_000)
    assert "\n\n" in a and a.count("。") > 100


def test_far_more_distinct_substrings_than_sample_sentences() -> None:
    import random

    varied = _take(documents(0), 200_000)
    rnd = random.Random(0)
    sample = "\n".join(itertools.islice(iter(lambda: clean_document(rnd), None), 200))[:len(varied)]
    assert _distinct_ngrams(varied) > 3 * _distinct_ngrams(sample)
    assert Lexicon("東京都市場", seed=0, scale=0.01).size() > 100


def test_write_shards_splits_by_characters(tmp_path: Path) -> None:
    paths, chars = write_shards(tmp_path, "web", 30_000, seed=1, shard_chars=10_000, fmt="jsonl", scale=0.05)
    assert len(paths) >= 3 and chars >= 30_000
    docs = [d for p in paths for d in read_shard(p)]
    assert sum(len(d["text"]) for d in docs) == chars
    assert [d["id"] for d in docs] == [f"web-{i}" for i in range(len(docs))]
    assert {d["source"] for d in docs} == {"web"}


def test_cli_generates_varied_parquet_shards(tmp_path: Path) -> None:
    result = runner.invoke(app, ["corpus", "generate", "-o", str(tmp_path / "g"), "--style", "varied",
                                 "--chars", "20000", "--shard-chars", "8000"])
    assert result.exit_code == 0, result.output
    shards = list_shards([tmp_path / "g"])
    assert {p.parent.name for p in shards} == {"web", "news"} and all(p.suffix == ".parquet" for p in shards)
    stats = runner.invoke(app, ["corpus", "stats", str(tmp_path / "g"), "--json"])
    assert json.loads(stats.output)["sources"]["web"]["chars"] >= 20_000
    bad = runner.invoke(app, ["corpus", "generate", "-o", str(tmp_path / "h"), "--style", "fancy"])
    assert isinstance(bad.exception, UsageError) and bad.exception.exit_code == 2
    assert "--style" in str(bad.exception)
