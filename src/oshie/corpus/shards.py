"""Output shards of a corpus step: kept, rejected (with a reason) and quarantined documents.

Every shard is written under a temporary name and renamed when complete, so a killed or
retried task never leaves half a shard, and a rerun skips shards whose `done/part-NNNNN.json`
records the same input and settings (resume). Documents are written in batches: a shard is
never held whole in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from oshie.corpus.streams import Document, Quarantined, batches, read_shard
from oshie.jsonl import JsonlWriter

SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("source", pa.string()), ("meta", pa.string())])
REJECT_SCHEMA = SCHEMA.append(pa.field("reason", pa.string()))
FORMATS = ("parquet", "jsonl")


def part_name(index: int) -> str:
    return f"part-{index:05d}"


class ShardWriter:
    """Appends batches of documents to one Parquet (or JSONL) file, atomically on close."""

    def __init__(self, path: Path, fmt: str = "parquet", schema: pa.Schema = SCHEMA) -> None:
        self.path = path.with_suffix(".parquet" if fmt == "parquet" else ".jsonl")
        self.fmt, self.schema = fmt, schema
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._pq: pq.ParquetWriter | None = None
        self._fh = JsonlWriter(self.tmp) if fmt == "jsonl" else None
        self.count = 0

    def write(self, docs: list[dict[str, Any]]) -> None:
        if not docs:
            return
        self.count += len(docs)
        if self._fh is not None:
            for d in docs:
                self._fh.write({k: d.get(k) for k in self.schema.names})
            return
        if self._pq is None:
            self._pq = pq.ParquetWriter(self.tmp, self.schema, compression="zstd")
        self._pq.write_table(pa.Table.from_pylist([{k: d.get(k) for k in self.schema.names} for d in docs],
                                                  schema=self.schema))

    def close(self) -> Path:
        if self._fh is not None:
            self._fh.close()
        else:
            if self._pq is None:  # an empty shard is still a shard: the next step reads it
                self._pq = pq.ParquetWriter(self.tmp, self.schema, compression="zstd")
            self._pq.close()
        self.tmp.replace(self.path)
        return self.path


def write_quarantine(path: Path, items: list[Quarantined]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with JsonlWriter(tmp) as fh:
        for q in items:
            fh.write(q.to_dict())
    tmp.replace(path)


def input_fingerprint(path: str | Path) -> str:
    """Cheap identity of an input shard for resuming: path, size and modification time."""
    st = Path(path).stat()
    return hashlib.sha256(f"{Path(path).resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]


def settings_key(config: Any) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def done_path(out_dir: Path, index: int) -> Path:
    return out_dir / "done" / f"{part_name(index)}.json"


def finished(out_dir: Path, index: int, key: str) -> dict[str, Any] | None:
    """The stats of a shard already finished with the same inputs and settings, else None."""
    p = done_path(out_dir, index)
    if not p.exists():
        return None
    try:
        data = json.loads(p.read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if data.get("key") == key else None


def mark_done(out_dir: Path, index: int, stats: dict[str, Any]) -> None:
    p = done_path(out_dir, index)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(stats, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    tmp.replace(p)


def doc_counts(docs: list[Document], tally: dict[str, dict[str, int]], *, bucket: str) -> None:
    """Add documents, UTF-8 bytes and characters per source to `tally[source][bucket_*]`."""
    for d in docs:
        t = tally.setdefault(d["source"], {})
        t[f"{bucket}_docs"] = t.get(f"{bucket}_docs", 0) + 1
        t[f"{bucket}_chars"] = t.get(f"{bucket}_chars", 0) + len(d["text"])
        t[f"{bucket}_bytes"] = t.get(f"{bucket}_bytes", 0) + len(d["text"].encode("utf-8", "surrogatepass"))


def merge_tallies(tallies: list[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    total: dict[str, dict[str, int]] = {}
    for tally in tallies:
        for source, counts in tally.items():
            t = total.setdefault(source, {})
            for k, v in counts.items():
                t[k] = t.get(k, 0) + v
    return dict(sorted(total.items()))


Split = Callable[[list[Document]], tuple[list[Document], list[Document]]]


def split_shard(task: dict[str, Any], split: Split, batch_size: int) -> dict[str, Any]:
    """The loop every shard step shares: read one input shard in batches, write what `split`
    keeps to `kept/` and what it rejects (each with its `reason`) to `rejected/`, unreadable
    records to `quarantine/`, and return the counts (in = kept + rejected + quarantined, per
    source). The step adds its own figures and calls `mark_done`."""
    out = Path(task["out_dir"])
    name = part_name(task["index"])
    kept_w = ShardWriter(out / "kept" / name, task["format"])
    rej_w = ShardWriter(out / "rejected" / name, task["format"], REJECT_SCHEMA)
    quarantined: list[Quarantined] = []
    tally: dict[str, dict[str, int]] = {}
    n_in = 0
    docs_iter = read_shard(task["path"], source=task.get("source"), text_field=task["text_field"])
    for docs, bad in batches(docs_iter, batch_size):
        quarantined += bad
        n_in += len(docs) + len(bad)
        doc_counts(docs, tally, bucket="in")
        kept, rejected = split(docs)
        doc_counts(kept, tally, bucket="kept")
        kept_w.write(kept)
        rej_w.write(rejected)
    kept_w.close()
    rej_w.close()
    write_quarantine(out / "quarantine" / f"{name}.jsonl", quarantined)
    return {"index": task["index"], "input": task["path"], "key": task["key"], "in": n_in, "kept": kept_w.count,
            "rejected": rej_w.count, "quarantined": len(quarantined), "by_source": tally}
