"""Reading corpus shards: every format, and bad input quarantined with file and position."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.corpus.streams import Quarantined, read_shard
from oshie.errors import DataError

TEXT = "これは日本語の文書です。段落がいくつかあります。"


def _jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def _split(items):
    docs = [i for i in items if not isinstance(i, Quarantined)]
    bad = [i for i in items if isinstance(i, Quarantined)]
    return docs, bad


def test_jsonl_compressed_and_plain_agree(tmp_path: Path) -> None:
    rows = [{"id": f"d{i}", "text": f"{TEXT}{i}", "url": "https://a.jp/x", "extra": i} for i in range(5)]
    raw = _jsonl(rows)
    (tmp_path / "a.jsonl").write_bytes(raw)
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "c.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(raw))
    seen = [list(read_shard(tmp_path / n, source="s")) for n in ("a.jsonl", "b.jsonl.gz", "c.jsonl.zst")]
    assert seen[0] == seen[1] == seen[2]
    assert [d["id"] for d in seen[0]] == [f"d{i}" for i in range(5)]
    assert json.loads(seen[0][0]["meta"]) == {"extra": 0, "url": "https://a.jp/x"}


def test_plain_text_blocks_and_parquet(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text(f"{TEXT}\n続きの行。\n\n\n二つ目の文書。\n", encoding="utf-8")
    docs = list(read_shard(tmp_path / "t.txt", source="s"))
    assert [d["text"] for d in docs] == [f"{TEXT}\n続きの行。", "二つ目の文書。"]
    pq.write_table(pa.table({"text": [TEXT, None], "id": ["a", "b"]}), tmp_path / "p.parquet")
    docs, bad = _split(list(read_shard(tmp_path / "p.parquet")))
    assert [d["id"] for d in docs] == ["a"]
    assert bad[0].position == "row 2" and "null" in bad[0].reason


def test_truncated_gzip_and_zstd_are_quarantined_after_the_last_good_line(tmp_path: Path) -> None:
    raw = _jsonl([{"text": f"{TEXT}{i}" * 20} for i in range(200)])
    gz = gzip.compress(raw)
    zs = zstandard.ZstdCompressor().compress(raw)
    (tmp_path / "a.jsonl.gz").write_bytes(gz[: len(gz) // 2])
    (tmp_path / "b.jsonl.zst").write_bytes(zs[: len(zs) // 2])
    for name in ("a.jsonl.gz", "b.jsonl.zst"):
        docs, bad = _split(list(read_shard(tmp_path / name)))
        assert 0 < len(docs) < 200
        assert len(bad) == 1 and bad[0].file.endswith(name)
        assert bad[0].position.startswith("after line") and "truncated" in bad[0].reason


def test_bad_lines_are_quarantined_with_line_and_byte(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_bytes(_jsonl([{"text": TEXT}]) + b'{"text": "\xff\xfe broken"}\n' + b"{not json\n"
                  + b'{"body": "no text field"}\n' + b'{"text": 5}\n' + _jsonl([{"text": TEXT}]))
    docs, bad = _split(list(read_shard(p)))
    assert len(docs) == 2
    assert [(q.position, q.reason.split(":")[0]) for q in bad] == [
        ("line 2, byte 10", "not UTF-8"), ("line 3", "broken JSON"),
        ("line 4", "field 'text' is missing"), ("line 5", "field 'text' is a int, not a string")]


def _wet(records: list[tuple[str, str]]) -> bytes:
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for url, text in records:
        data = text.encode()
        rec = writer.create_warc_record(url, "conversion", payload=io.BytesIO(data), length=len(data),
                                        warc_content_type="text/plain")
        writer.write_record(rec)
    return buf.getvalue()


def test_wet_records_and_a_broken_one(tmp_path: Path) -> None:
    good = _wet([("https://a.jp/1", TEXT), ("https://a.jp/2", TEXT + "二")])
    (tmp_path / "ok.warc.wet.gz").write_bytes(good)
    docs = list(read_shard(tmp_path / "ok.warc.wet.gz"))
    assert [json.loads(d["meta"])["url"] for d in docs] == ["https://a.jp/1", "https://a.jp/2"]
    assert docs[1]["text"] == TEXT + "二"
    (tmp_path / "bad.warc.wet.gz").write_bytes(good + gzip.compress(b"garbage, not a WARC record\r\n\r\n"))
    docs, bad = _split(list(read_shard(tmp_path / "bad.warc.wet.gz")))
    assert len(docs) == 2 and len(bad) == 1
    assert "broken WARC record" in bad[0].reason and bad[0].position.startswith("record 3")
    short = gzip.compress(b"WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: 500\r\n\r\n" + TEXT.encode())
    (tmp_path / "cut.warc.wet.gz").write_bytes(good + short)
    docs, bad = _split(list(read_shard(tmp_path / "cut.warc.wet.gz")))
    assert len(docs) == 2 and "truncated" in bad[0].reason and bad[0].position.startswith("record 3 at byte")


def test_parquet_without_text_column_is_a_clear_error(tmp_path: Path) -> None:
    pq.write_table(pa.table({"body": [TEXT]}), tmp_path / "p.parquet")
    with pytest.raises(DataError, match="no 'text' column"):
        list(read_shard(tmp_path / "p.parquet"))
    result = CliRunner().invoke(app, ["corpus", "clean", str(tmp_path / "p.parquet"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "p.parquet" in str(result.exception) and "--text-field" in str(result.exception)


def test_clean_counts_add_up_with_bad_input(tmp_path: Path) -> None:
    """Every document read is kept, rejected or quarantined; the manifest says so."""
    src = tmp_path / "in"
    src.mkdir()
    raw = _jsonl([{"text": TEXT * 30} for _ in range(50)])
    (src / "a.jsonl.gz").write_bytes(gzip.compress(raw)[:-40])
    (src / "b.jsonl").write_bytes(raw[:200] + b"\n\xff\xff\n" + raw[200:])
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["corpus", "clean", str(src), "-o", str(out), "-j", "1", "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    t = manifest["totals"]
    assert t["in"] == t["kept"] + t["rejected"] + t["quarantined"]
    assert t["quarantined"] >= 3  # the truncated tail and the bad bytes (the line they broke too)
    lines = [json.loads(x) for f in sorted((out / "quarantine").glob("*.jsonl")) for x in f.read_text().splitlines()]
    assert {Path(q["file"]).name for q in lines} == {"a.jsonl.gz", "b.jsonl"}
    n_out = sum(pq.read_metadata(f).num_rows for f in (out / "kept").glob("*.parquet"))
    n_rej = sum(pq.read_metadata(f).num_rows for f in (out / "rejected").glob("*.parquet"))
    assert (n_out, n_rej, len(lines)) == (t["kept"], t["rejected"], t["quarantined"])
