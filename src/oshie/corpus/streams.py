"""Documents read as streams from corpus files, one shard (file) at a time, never whole.

A document is a plain dict: `id`, `text`, `source` and `meta` (a JSON string, so every shard
has the same Parquet schema). Supported shards:

- JSON Lines, optionally `.gz` / `.zst` compressed: the `text` field (`--text-field`), with
  `id`, `source`, `url`, `lang` kept when present and every other field kept in `meta`;
- Parquet: a `text` column, read in record batches;
- plain text (`.txt`, optionally compressed): one document per blank-line-separated block;
- Common Crawl WET (`.warc.wet.gz`, `.wet`, `.warc.gz`): `conversion` records via warcio.

Bad input never stops a run silently and never loses a document: a line that is not JSON,
bytes that are not UTF-8, a record without text, a truncated compressed stream or a broken
WARC record become `Quarantined` entries naming the file and position (line or byte offset).
Problems that spoil a whole file (a Parquet file without the text column) raise `DataError`.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oshie.errors import DataError, UsageError, require

Document = dict[str, Any]
KNOWN_FIELDS = ("id", "source", "url", "lang")
PREVIEW = 500  # characters of a quarantined record kept for the person who fixes it

_COMPRESSED = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
_KINDS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet",
          ".txt": "text", ".text": "text", ".md": "text", ".wet": "wet", ".warc": "wet"}


@dataclass
class Quarantined:
    """A record (or the rest of a file) that could not be read, with where and why."""

    file: str
    position: str  # "line 12", "byte 40960", "record 3 at byte 1024", "row 7"
    reason: str
    raw: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "position": self.position, "reason": self.reason, "raw": self.raw[:PREVIEW]}


def shard_kind(path: Path) -> tuple[str, str | None]:
    """(kind, compression) of a corpus file from its name: `a.jsonl.zst` -> ("jsonl", "zstd")."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = _COMPRESSED.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    if ".wet" in suffixes or ".warc" in suffixes:
        return "wet", compression
    kind = _KINDS.get(suffixes[-1]) if suffixes else None
    if kind is None:
        raise UsageError(f"unsupported corpus file '{path.name}'", path=path,
                         hint="use .jsonl(.gz/.zst), .parquet, .txt(.gz/.zst) or Common Crawl .warc.wet.gz")
    return kind, compression


def list_shards(inputs: list[Path]) -> list[Path]:
    """The corpus files named by `inputs` (files, or directories searched recursively), sorted,
    so shard numbers are stable between runs and engines."""
    found: list[Path] = []
    for p in inputs:
        if p.is_dir():
            for f in sorted(q for q in p.rglob("*") if q.is_file() and not q.name.startswith(".")):
                try:
                    shard_kind(f)
                except UsageError:
                    continue
                found.append(f)
        elif p.is_file():
            shard_kind(p)  # an explicitly named file of the wrong kind is an error
            found.append(p)
        else:
            raise UsageError("no such file or directory", path=p, hint="check the corpus path")
    if not found:
        raise UsageError("no corpus files found", path=inputs[0] if inputs else None,
                         hint="give .jsonl(.gz/.zst), .parquet, .txt or .warc.wet.gz files or a directory holding them")
    return found


def _zstd_chunks(path: Path) -> Iterator[bytes]:
    """Decompressed bytes of a (multi-frame) zstd file; a frame cut short raises EOFError
    (zstandard's stream reader would end quietly instead)."""
    zstandard = require("zstandard", "corpus")
    dctx = zstandard.ZstdDecompressor()
    dobj, open_frame = dctx.decompressobj(), False
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            while block:
                open_frame = True
                yield dobj.decompress(block)
                block = b""
                if dobj.eof:  # a frame ended; what follows it starts the next one
                    block, dobj, open_frame = dobj.unused_data, dctx.decompressobj(), False
    if open_frame:
        raise EOFError("the last zstd frame ends before its end mark")


def _raw_lines(path: Path, compression: str | None) -> Iterator[bytes]:
    if compression == "zstd":
        rest = b""
        for chunk in _zstd_chunks(path):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                yield line + b"\n"
        if rest:
            yield rest
        return
    opener = gzip.open if compression == "gzip" else open
    with opener(path, "rb") as fh:
        yield from fh


_TRUNCATED = (EOFError, zlib.error, gzip.BadGzipFile, OSError)


def _lines(path: Path, compression: str | None) -> Iterator[tuple[int, bytes] | Quarantined]:
    """(line number, raw bytes) of each line; a stream that ends early yields a Quarantined."""
    number = 0
    try:
        for number, raw in enumerate(_raw_lines(path, compression), start=1):
            yield number, raw
    except Exception as exc:  # gzip/zlib/EOF errors, zstandard's ZstdError
        if not isinstance(exc, _TRUNCATED) and type(exc).__name__ != "ZstdError":
            raise
        yield Quarantined(str(path), f"after line {number}",
                          f"the compressed stream is truncated or corrupt ({type(exc).__name__}: {exc}); "
                          "the rest of the file could not be read")


def _decode(raw: bytes, path: Path, position: str) -> str | Quarantined:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.end].hex(" ").upper()
        return Quarantined(str(path), f"{position}, byte {exc.start}",
                           f"not UTF-8: bytes {bad}", raw.decode("utf-8", "backslashreplace"))


def _document(obj: dict[str, Any], text: str, default_id: str, source: str) -> Document:
    meta = {k: v for k, v in obj.items() if k not in (*KNOWN_FIELDS, "text", "meta")}
    inner = obj.get("meta")
    if isinstance(inner, str) and inner.startswith("{"):  # a shard oshie wrote: meta is JSON text
        try:
            inner = json.loads(inner)
        except json.JSONDecodeError:
            pass
    if isinstance(inner, dict):
        meta = {**inner, **meta}
    elif inner is not None:
        meta["meta"] = inner
    for k in ("url", "lang"):
        if obj.get(k) is not None:
            meta[k] = obj[k]
    return {
        "id": str(obj["id"]) if obj.get("id") is not None else default_id,
        "text": text,
        "source": str(obj["source"]) if obj.get("source") else source,
        "meta": json.dumps(meta, ensure_ascii=False, default=str, sort_keys=True),
    }


def _jsonl_docs(path: Path, compression: str | None, source: str, text_field: str) -> Iterator[Document | Quarantined]:
    for item in _lines(path, compression):
        if isinstance(item, Quarantined):
            yield item
            continue
        number, raw = item
        if not raw.strip():
            continue
        position = f"line {number}"
        line = _decode(raw, path, position)
        if isinstance(line, Quarantined):
            yield line
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Quarantined(str(path), position, f"broken JSON: {exc.msg} at column {exc.colno}", line)
            continue
        if not isinstance(obj, dict):
            yield Quarantined(str(path), position, f"expected a JSON object, got {type(obj).__name__}", line)
            continue
        text = obj.get(text_field)
        if not isinstance(text, str):
            what = "missing" if text is None else f"a {type(text).__name__}, not a string"
            yield Quarantined(str(path), position, f"field '{text_field}' is {what}", line)
            continue
        obj = {k: v for k, v in obj.items() if k != text_field}
        yield _document(obj, text, f"{path.name}:{number}", source)


def _text_docs(path: Path, compression: str | None, source: str) -> Iterator[Document | Quarantined]:
    block: list[str] = []
    first = 0
    for item in [*_lines(path, compression), None]:
        if isinstance(item, Quarantined):
            yield item
            continue
        line = None
        if item is not None:
            number, raw = item
            decoded = _decode(raw, path, f"line {number}")
            if isinstance(decoded, Quarantined):
                yield decoded
                continue
            line = decoded.rstrip("\r\n")
        if line is None or not line.strip():
            if block:
                yield {"id": f"{path.name}:{first}", "text": "\n".join(block), "source": source, "meta": "{}"}
                block = []
            continue
        if not block:
            first = number
        block.append(line)


def _parquet_docs(path: Path, source: str, text_field: str, batch_size: int) -> Iterator[Document | Quarantined]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"not a readable Parquet file ({exc})", path=path) from None
    names = pf.schema_arrow.names
    if text_field not in names:
        raise DataError(f"the Parquet file has no '{text_field}' column (columns: {', '.join(names)})",
                        path=path, field=text_field,
                        hint="name the column that holds the text with --text-field")
    row = 0
    for batch in pf.iter_batches(batch_size=batch_size):
        for obj in batch.to_pylist():
            row += 1
            text = obj.pop(text_field)
            if not isinstance(text, str):
                yield Quarantined(str(path), f"row {row}", f"column '{text_field}' is {'null' if text is None else type(text).__name__}")
                continue
            yield _document(obj, text, f"{path.name}:{row}", source)


def _wet_docs(path: Path, source: str) -> Iterator[Document | Quarantined]:
    warcio = require("warcio.archiveiterator", "corpus")
    n = 0
    offset = 0
    with open(path, "rb") as fh:
        records = warcio.ArchiveIterator(fh)
        while True:
            try:
                record = next(records)
                n += 1
                if record.rec_type != "conversion":
                    continue
                raw = record.content_stream().read()
                offset = records.get_record_offset()  # only after the read: it ends the record
            except StopIteration:
                return
            except Exception as exc:  # warcio: ArchiveLoadFailed, zlib errors, EOFError on truncation
                yield Quarantined(str(path), f"record {n + 1} (after byte {offset})",
                                  f"broken WARC record ({type(exc).__name__}: {str(exc)[:200]}); "
                                  "the rest of the file could not be read")
                return
            declared = record.rec_headers.get_header("Content-Length")
            if declared and declared.isdigit() and len(raw) < int(declared) - _header_bytes(record):
                yield Quarantined(str(path), f"record {n} at byte {offset}",
                                  f"WARC record truncated: {len(raw)} bytes of content, header declares {declared}",
                                  raw.decode("utf-8", "replace"))
                continue
            text = _decode(raw, path, f"record {n} at byte {offset}")
            if isinstance(text, Quarantined):
                yield text
                continue
            headers = record.rec_headers
            meta = {"url": headers.get_header("WARC-Target-URI"), "date": headers.get_header("WARC-Date")}
            rid = headers.get_header("WARC-Record-ID") or f"{path.name}@{offset}"
            yield {"id": rid.strip("<>"), "text": text, "source": source,
                   "meta": json.dumps(meta, ensure_ascii=False, sort_keys=True)}


def _header_bytes(record: object) -> int:
    """Bytes of HTTP headers inside a record's declared length (none for WET conversions)."""
    http = getattr(record, "http_headers", None)
    return len(http.to_bytes()) if http is not None else 0


def read_shard(path: str | Path, *, source: str | None = None, text_field: str = "text",
               batch_size: int = 1024) -> Iterator[Document | Quarantined]:
    """Every document of one corpus file, in file order, interleaved with what was quarantined.
    `source` defaults to the file's parent directory name."""
    p = Path(path)
    kind, compression = shard_kind(p)
    src = source or p.parent.name or p.stem
    if kind == "jsonl":
        return _jsonl_docs(p, compression, src, text_field)
    if kind == "text":
        return _text_docs(p, compression, src)
    if kind == "parquet":
        return _parquet_docs(p, src, text_field, batch_size)
    return _wet_docs(p, src)


def batches(items: Iterator[Document | Quarantined], size: int) -> Iterator[tuple[list[Document], list[Quarantined]]]:
    """Groups of up to `size` documents (with the quarantined entries met on the way)."""
    docs: list[Document] = []
    bad: list[Quarantined] = []
    for item in items:
        if isinstance(item, Quarantined):
            bad.append(item)
            continue
        docs.append(item)
        if len(docs) >= size:
            yield docs, bad
            docs, bad = [], []
    if docs or bad:
        yield docs, bad
