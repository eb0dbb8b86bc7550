"""What every file type shares: the row and source shapes, encoding detection, table
cells, atomic writes and what a file type can hold. Knows nothing about formats."""

from __future__ import annotations

import codecs
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oshie.errors import DataError, RowError, UsageError

SUFFIXES = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
    ".xlsx": "xlsx", ".parquet": "parquet", ".txt": "txt",
}
FILE_TYPES = ("jsonl", "json", "csv", "tsv", "xlsx", "parquet", "hf", "txt")
TABULAR = frozenset({"csv", "tsv", "xlsx", "parquet", "hf"})
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
RAW_PREVIEW = 2000  # characters of an over-long line kept in the quarantine file
ENCODING_NAMES = {
    "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp932": "CP932 (Shift_JIS)", "utf-16": "UTF-16",
}


@dataclass
class RawRow:
    """One row of a file: parsed (`row`) or not (`error`), with where it starts."""

    line: int
    raw: str | None  # the source text; None for table rows, rebuilt from `row` only when needed
    row: dict[str, Any] | None = None
    error: RowError | None = None
    # the record's number in the file, where lines do not tell records apart (a one-line JSON array)
    position: int | None = None

    @property
    def text(self) -> str:
        if self.raw is None:
            self.raw = json.dumps(self.row, ensure_ascii=False, default=str)
        return self.raw


@dataclass
class Source:
    """An opened input: what it is, and an iterator over its rows."""

    path: Path
    display: str  # how errors name it, e.g. "book.xlsx (sheet 'data')"
    file_type: str
    encoding: str | None
    line_label: str  # "line" for text files, "row" for tables
    total: int | None  # rows (or lines) to expect, for progress bars
    rows: Iterator[RawRow]
    notes: list[str] = field(default_factory=list)

    @property
    def tabular(self) -> bool:
        return self.file_type in TABULAR

    @property
    def encoding_name(self) -> str:
        return ENCODING_NAMES.get(self.encoding or "", self.encoding or "-")


def file_type_of(path: str | Path, file_type: str | None = None) -> str:
    if file_type:
        if file_type not in FILE_TYPES:
            raise UsageError(f"unknown file type '{file_type}'", hint=f"use one of: {', '.join(FILE_TYPES)}")
        return file_type
    p = Path(path)
    if p.is_dir():
        return "hf"
    return SUFFIXES.get(p.suffix.lower(), "jsonl")


# ---------------------------------------------------------------- encodings


def detect_encoding(sample: bytes, complete: bool) -> str:
    """UTF-8 (with or without BOM), UTF-16 (BOM) or CP932; see the README for the rule."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if not complete:  # do not judge a multi-byte character cut at the end of the sample
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp932")
        return "cp932"
    except UnicodeDecodeError:
        pass
    # Neither is clean: a few bad bytes in UTF-8 text, or a broken Shift_JIS file.
    # Shift_JIS read as UTF-8 fails on nearly every character, UTF-8 text only where it is broken.
    text = sample.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return "utf-8" if good >= bad else "cp932"


def read_text(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    if not data.strip():
        raise DataError("the file is empty", path=path, hint="write at least one record")
    enc = detect_encoding(data, complete=True)
    # surrogateescape keeps undecodable bytes visible; the format checks report them by field
    errors = "strict" if enc == "utf-16" else "surrogateescape"
    try:
        text = data.decode(enc, errors)
    except UnicodeDecodeError as exc:
        raise DataError(f"cannot decode as {enc}: {exc.reason}", path=path,
                        hint="re-save the file as UTF-8") from None
    return text.removeprefix("\ufeff"), enc


def decode_error(chunk: bytes, enc: str, exc: UnicodeDecodeError) -> RowError:
    bad = chunk[exc.start : exc.end].hex(" ").upper()
    return RowError(
        f"undecodable bytes {bad} at byte {exc.start} of the line (file read as {ENCODING_NAMES.get(enc, enc)})",
        None, "re-save the file in one encoding, preferably UTF-8",
    )


def cell_rows(display: str, header: list[Any], rows: Iterator[tuple[int, list[Any], str | None]]) -> Iterator[RawRow]:
    names = [str(h).strip() if h is not None else "" for h in header]
    width = len(names)
    while width and not names[width - 1]:
        width -= 1
    names = names[:width]
    for line, cells, raw in rows:
        if all(c is None or c == "" for c in cells):
            continue
        extra = [c for c in cells[width:] if c is not None and c != ""]
        if extra:
            yield RawRow(line, raw if raw is not None else json.dumps(cells, ensure_ascii=False), error=RowError(
                f"row has {width + len(extra)} cells but the header has {width} columns", None,
                "add a header for the extra column or remove the stray cells"))
            continue
        yield RawRow(line, raw, {n: (cells[i] if i < len(cells) else None) for i, n in enumerate(names)})


def check_header(path: Path, display: str, names: list[Any], label: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        text = str(name).strip() if name is not None else ""
        if not text:
            if any(n not in (None, "") for n in names[i + 1 :]):
                raise DataError(f"column {i + 1} of the header has no name", path=display, line=1,
                                line_label=label, hint="name every column (e.g. instruction, input, output)")
            continue
        if text in seen:
            raise DataError(f"the header names column '{text}' twice", path=display, line=1,
                            line_label=label, hint="give each column a unique name")
        seen.add(text)



EXCEL_CELL_LIMIT = 32767


def cell_text(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def columns_of(rows: list[dict[str, Any]]) -> list[str]:
    cols: dict[str, None] = {}
    for row in rows:
        for key in row:
            cols.setdefault(key, None)
    return list(cols)


def table_cells(rows: list[dict[str, Any]]) -> tuple[list[str], Iterator[list[Any]]]:
    """`rows` as a table for the sheet writers (CSV, TSV, XLSX): the columns in the order
    they first appear, and each row's cells in that order (None where the row lacks the key,
    objects and lists as JSON text)."""
    cols = columns_of(rows)
    return cols, ([cell_text(row.get(c)) for c in cols] for row in rows)


def check_row(row: dict[str, Any], file_type: str, encoding: str = "utf-8") -> None:
    """Raise RowError if this file type (or encoding) cannot hold the row."""
    if file_type == "xlsx":
        for key, value in row.items():
            text = cell_text(value)
            if isinstance(text, str) and len(text) > EXCEL_CELL_LIMIT:
                raise RowError(f"{len(text)} characters do not fit an Excel cell (max {EXCEL_CELL_LIMIT})",
                               key, "write this data as .jsonl or .parquet")
    if encoding.lower().replace("_", "-") in ("cp932", "shift-jis", "sjis"):
        for key, value in row.items():
            text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
            try:
                text.encode("cp932")
            except UnicodeEncodeError as exc:
                raise RowError(f"character {text[exc.start]!r} cannot be written in CP932", key,
                               "write UTF-8 instead (--encoding utf-8)") from None


def atomic(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


