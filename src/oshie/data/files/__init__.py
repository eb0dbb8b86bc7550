"""File types: read rows (dicts) from JSONL, JSON, CSV, TSV, XLSX, Parquet and HF datasets,
and write rows back. Knows nothing about instruction formats (one module per file type).

Readers yield `RawRow`s: the row's line (or spreadsheet row), its original text and the
parsed dict, or a `RowError` when the row cannot even be parsed. Problems that spoil
the whole file (empty, not a JSON array, not a workbook) raise `DataError`.

A `.txt` file is input only: one instruction per non-empty line, each a `{"prompt": line}`
row (an instruction without an answer); there is no .txt writer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from oshie.data.files.arrow import open_hf, open_parquet, write_hf, write_parquet
from oshie.data.files.base import (
    DEFAULT_MAX_LINE_BYTES,
    ENCODING_NAMES,
    FILE_TYPES,
    SUFFIXES,
    TABULAR,
    RawRow,
    Source,
    check_row,
    columns_of,
    detect_encoding,
    file_type_of,
)
from oshie.data.files.delimited import open_delimited, write_delimited
from oshie.data.files.text import open_json, open_jsonl, open_txt, write_json, write_jsonl
from oshie.data.files.xlsx import open_xlsx, write_xlsx
from oshie.errors import DataError, RowError, UsageError

__all__ = ["DEFAULT_MAX_LINE_BYTES", "ENCODING_NAMES", "FILE_TYPES", "SUFFIXES", "TABULAR", "RawRow", "RowError",
           "Source", "check_row", "columns_of", "detect_encoding", "file_type_of", "open_source",
           "output_type_of", "write_rows"]

HeaderTest = Callable[[list[str]], bool]  # does a header row name the fields of a known format?

OPENERS: dict[str, Callable[[Path, int, HeaderTest | None], Source]] = {
    "jsonl": lambda p, m, h: open_jsonl(p, m),
    "json": lambda p, m, h: open_json(p, m),
    "csv": lambda p, m, h: open_delimited(p, m, ",", "csv"),
    "tsv": lambda p, m, h: open_delimited(p, m, "\t", "tsv"),
    "xlsx": lambda p, m, h: open_xlsx(p, m, h),
    "parquet": lambda p, m, h: open_parquet(p, m),
    "hf": lambda p, m, h: open_hf(p, m),
    "txt": lambda p, m, h: open_txt(p, m),
}


def open_source(path: str | Path, file_type: str | None = None,
                max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, is_data_header: HeaderTest | None = None) -> Source:
    """Open an input; `is_data_header` picks the data sheet of a workbook (the first sheet
    whose header it accepts; workbooks often open with a guide sheet)."""
    p = Path(path)
    if not p.exists():
        raise UsageError("no such file", path=p, hint="check the path")
    kind = file_type_of(p, file_type)
    if kind != "hf" and p.is_dir():
        raise UsageError("expected a file, got a directory", path=p)
    if kind != "hf" and p.stat().st_size == 0:
        raise DataError("the file is empty (0 bytes)", path=p, hint="write at least one record")
    return OPENERS[kind](p, max_line_bytes, is_data_header)


WRITERS: dict[str, Callable[[Path, list[dict[str, Any]], str], None]] = {
    "jsonl": write_jsonl,
    "json": write_json,
    "csv": lambda p, r, e: write_delimited(p, r, e, ","),
    "tsv": lambda p, r, e: write_delimited(p, r, e, "\t"),
    "xlsx": write_xlsx,
    "parquet": write_parquet,
    "hf": write_hf,
}

def output_type_of(path: str | Path, file_type: str | None = None) -> str:
    """The file type to write `path` as; raises UsageError for input-only types (.txt)."""
    kind = file_type_of(path, file_type)
    if kind not in WRITERS:
        raise UsageError(f"cannot write {kind} files: a .{kind} file is input only (one instruction a line)",
                         path=path, hint="write .jsonl (e.g. the messages format) instead")
    return kind


def write_rows(path: str | Path, rows: list[dict[str, Any]], file_type: str | None = None,
               encoding: str = "utf-8") -> Path:
    p = Path(path)
    kind = output_type_of(p, file_type)
    WRITERS[kind](p, rows, encoding)
    return p
