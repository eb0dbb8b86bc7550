"""`oshie corpus dedup`: planted near-duplicates across sources, exact copies, near misses kept,
a deterministic representative, and the MinHash core shared with the audit."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.parquet as pq
from tests.corpus.conftest import write_jsonl
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.corpus.synthetic import clean_document
from oshie.data import dedup as audit_dedup
from oshie.data import minhash


def edit(text: str, rnd: random.Random, n: int) -> str:
    chars = list(text)
    for _ in range(n):
        i = rnd.randrange(len(chars))
        op = rnd.choice("sid")
        if op == "s":
            chars[i] = "あ" if chars[i] != "あ" else "い"
        elif op == "i":
            chars.insert(i, "ん")
        else:
            del chars[i]
    return "".join(chars)


def test_audit_and_corpus_use_one_minhash() -> None:
    assert audit_dedup.signatures is minhash.signatures and audit_dedup.band_keys is minhash.band_keys
    assert minhash.bands_for(0.7, 128) == 32  # 4 rows: P(candidate | J=0.7) = 0.9998
    assert minhash.candidate_probability(0.7, 32, 4) > 0.99 > minhash.candidate_probability(0.3, 32, 4)


def test_dedup_planted_pairs_across_sources(tmp_path: Path) -> None:
    rnd = random.Random(5)
    originals = [clean_document(rnd, 300) for _ in range(40)]
    web = [{"id": f"w{i}", "text": t} for i, t in enumerate(originals)]
    # news: 20 edited copies (1-3 edits) of web documents, 5 exact copies, and 10 near misses:
    # the first half of a web document followed by new text (Jaccard about 0.5, below 0.7)
    news = [{"id": f"n{i}", "text": edit(originals[i], rnd, 1 + i % 3)} for i in range(20)]
    news += [{"id": f"x{i}", "text": originals[20 + i]} for i in range(5)]
    news += [{"id": f"m{i}", "text": originals[30 + i][: len(originals[30 + i]) // 2] + clean_document(rnd, 150)}
             for i in range(10)]
    write_jsonl(tmp_path / "in" / "a_web" / "0.jsonl", web)
    write_jsonl(tmp_path / "in" / "b_news" / "0.jsonl", news)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["corpus", "dedup", str(tmp_path / "in"), "-o", str(out), "-j", "1",
                                      "--set", "partitions=4"])
    assert result.exit_code == 0, result.output
    rejected = {r["id"]: r["reason"] for r in pq.read_table(out / "rejected").to_pylist()}
    kept = {r["id"] for r in pq.read_table(out / "kept").to_pylist()}
    planted = {f"n{i}" for i in range(20)} | {f"x{i}" for i in range(5)}
    assert planted <= set(rejected)  # every planted copy found; the web original (read first) is kept
    assert set(rejected) == planted  # and nothing else: near misses and originals stay
    assert {f"m{i}" for i in range(10)} <= kept and {f"w{i}" for i in range(40)} <= kept
    assert rejected["n0"].startswith("duplicate of w0 (near") and rejected["x0"].startswith("duplicate of w20 (exact")
    clusters = [json.loads(x) for x in (out / "clusters.jsonl").read_text().splitlines()]
    assert len(clusters) == 25 and all(c["representative"].startswith("w") for c in clusters)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["totals"] == {"in": 75, "kept": 50, "rejected": 25, "quarantined": 0}
    assert manifest["dedup"]["bands"] * manifest["dedup"]["rows"] == 128
