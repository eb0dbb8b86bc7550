"""File types: read rows (dicts) from JSONL, JSON, CSV, TSV, XLSX, Parquet and HF datasets,
and write rows back. Knows nothing about instruction formats.

Readers yield `RawRow`s: the row's line (or spreadsheet row), its original text and the
parsed dict, or a `RowError` when the row cannot even be parsed. Problems that spoil
the whole file (empty, not a JSON array, not a workbook) raise `DataError`.

A `.txt` file is input only: one instruction per non-empty line, each a `{"prompt": line}`
row (an instruction without an answer); there is no .txt writer.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oshie.data.formats import RowError, detect_format
from oshie.errors import DataError, UsageError, require

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
    line: int
    raw: str | None  # the source text; None for table rows, rebuilt from `row` only when needed
    row: dict[str, Any] | None = None
    error: RowError | None = None

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


def _read_text(path: Path) -> tuple[str, str]:
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


def _decode_error(chunk: bytes, enc: str, exc: UnicodeDecodeError) -> RowError:
    bad = chunk[exc.start : exc.end].hex(" ").upper()
    return RowError(
        f"undecodable bytes {bad} at byte {exc.start} of the line (file read as {ENCODING_NAMES.get(enc, enc)})",
        None, "re-save the file in one encoding, preferably UTF-8",
    )


# ---------------------------------------------------------------- readers


def _parse_json_object(text: str, line: int) -> RawRow:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return RawRow(line, text, error=RowError(
            f"broken JSON: {exc.msg} at column {exc.colno}", None,
            "each line must be one complete JSON object; check quotes, commas and braces"))
    except RecursionError:
        return RawRow(line, text[:RAW_PREVIEW], error=RowError("JSON nested too deeply", None, "flatten the record"))
    if not isinstance(obj, dict):
        return RawRow(line, text, error=RowError(
            f"expected a JSON object {{...}}, got {type(obj).__name__}", None, "each line must be one record object"))
    return RawRow(line, text, obj)


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            n += block.count(b"\n")
    return n + 1


def _jsonl_rows(path: Path, enc: str, max_line_bytes: int) -> Iterator[RawRow]:
    if enc == "utf-16":  # not splittable as bytes; such files are small exports
        text, _ = _read_text(path)
        for i, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                yield _parse_json_object(line.rstrip("\r"), i)
        return
    with open(path, "rb") as fh:
        line = 0
        while chunk := fh.readline(max_line_bytes + 1):
            line += 1
            if len(chunk) > max_line_bytes and not chunk.endswith(b"\n"):
                size = len(chunk)
                while more := fh.readline(1 << 20):  # skip the rest without holding it
                    size += len(more)
                    if more.endswith(b"\n"):
                        break
                preview = chunk[:RAW_PREVIEW].decode(enc, "replace") + f"... [{size} bytes]"
                yield RawRow(line, preview, error=RowError(
                    f"line is {size / 2**20:.1f} MiB, over the {max_line_bytes / 2**20:g} MiB limit", None,
                    "split the record, or raise the limit with --max-line-mb"))
                continue
            try:
                text = chunk.decode(enc)
            except UnicodeDecodeError as exc:
                yield RawRow(line, chunk.decode(enc, "backslashreplace").rstrip("\r\n"),
                             error=_decode_error(chunk, enc, exc))
                continue
            if line == 1:
                text = text.removeprefix("\ufeff")
            text = text.rstrip("\r\n")
            if text.strip():
                yield _parse_json_object(text, line)


def _open_jsonl(path: Path, max_line_bytes: int) -> Source:
    with open(path, "rb") as fh:
        sample = fh.read(1 << 23)
    if not sample.strip():
        raise DataError("the file is empty", path=path, hint="write at least one record")
    if sample.lstrip(codecs.BOM_UTF8 + b" \t\r\n").startswith(b"["):  # a JSON array under a .jsonl name?
        try:
            source = _open_json(path, max_line_bytes)
        except DataError:
            pass  # no: JSON Lines whose first record is broken; report it line by line
        else:
            source.notes.append("the file holds one JSON array; read it as .json")
            return source
    return _open_jsonl_as(path, max_line_bytes)


def _open_jsonl_as(path: Path, max_line_bytes: int) -> Source:
    with open(path, "rb") as fh:
        sample = fh.read(1 << 23)
        complete = not fh.read(1)
    enc = detect_encoding(sample, complete)
    return Source(path, str(path), "jsonl", enc, "line", _count_lines(path),
                  _jsonl_rows(path, enc, max_line_bytes))


def _open_json(path: Path, max_line_bytes: int) -> Source:
    text, enc = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):  # JSON Lines under a .json name
            source = _open_jsonl_as(path, max_line_bytes)
            source.notes.append("the file holds one JSON object per line; read it as .jsonl")
            return source
        raise DataError(f"broken JSON: {exc.msg} (column {exc.colno})", path=path, line=exc.lineno,
                        hint="fix the JSON, or write one record per line as .jsonl") from None
    if isinstance(data, dict):
        raise DataError("expected a JSON array of records, got one object", path=path, line=1,
                        hint="wrap the records in [ ... ], or write one record per line as .jsonl")
    if not isinstance(data, list):
        raise DataError(f"expected a JSON array of records, got {type(data).__name__}", path=path, line=1)
    if not data:
        raise DataError("the JSON array is empty", path=path, line=1, hint="write at least one record")
    return Source(path, str(path), "json", enc, "line", len(data), _json_array_rows(text, data))


def _json_array_rows(text: str, data: list[Any]) -> Iterator[RawRow]:
    """Walk the array once more to learn on which line each element starts."""
    decoder = json.JSONDecoder()
    pos, line, last = text.index("[") + 1, 1, 0
    for item in data:
        while text[pos] in " \t\r\n,":
            pos += 1
        line += text.count("\n", last, pos)
        last = pos
        _, end = decoder.raw_decode(text, pos)
        raw = text[pos:end]
        pos = end
        if isinstance(item, dict):
            yield RawRow(line, raw, item)
        else:
            yield RawRow(line, raw, error=RowError(
                f"expected a record object {{...}}, got {type(item).__name__}", None,
                "every array element must be one record object"))


def _open_txt(path: Path, max_line_bytes: int) -> Source:
    text, enc = _read_text(path)
    lines = text.split("\n")
    return Source(path, str(path), "txt", enc, "line", len(lines), _txt_rows(lines, max_line_bytes))


def _txt_rows(lines: list[str], max_line_bytes: int) -> Iterator[RawRow]:
    for line_no, line in enumerate(lines, start=1):
        raw = line.rstrip("\r")
        text = raw.strip()
        if not text:
            continue
        size = len(raw.encode("utf-8", "surrogateescape")) if len(raw) * 4 > max_line_bytes else 0
        if size > max_line_bytes:
            yield RawRow(line_no, raw[:RAW_PREVIEW] + f"... [{size} bytes]", error=RowError(
                f"line is {size / 2**20:.1f} MiB, over the {max_line_bytes / 2**20:g} MiB limit", None,
                "split the instruction, or raise the limit with --max-line-mb"))
            continue
        yield RawRow(line_no, raw, {"prompt": text})


def _cell_rows(display: str, header: list[Any], rows: Iterator[tuple[int, list[Any], str | None]]) -> Iterator[RawRow]:
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


def _check_header(path: Path, display: str, names: list[Any], label: str) -> None:
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


def _open_delimited(path: Path, max_line_bytes: int, delimiter: str, kind: str) -> Source:
    text, enc = _read_text(path)
    lines = list(io.StringIO(text, newline=""))
    csv.field_size_limit(max(max_line_bytes, 1 << 20))
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise DataError(f"cannot read the header: {exc}", path=path, line=1) from None
    _check_header(path, str(path), header, "line")

    def rows() -> Iterator[tuple[int, list[Any], str]]:
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DataError(f"broken {kind.upper()}: {exc}", path=path, line=start,
                                hint="check for an unclosed quote (\") in this row") from None
            raw = "".join(lines[start - 1 : reader.line_num]).rstrip("\r\n")
            yield start, cells, raw
            start = reader.line_num + 1

    return Source(path, str(path), kind, enc, "line", len(lines) - 1, _cell_rows(str(path), header, rows()))


def _open_xlsx(path: Path, max_line_bytes: int) -> Source:
    from zipfile import BadZipFile

    import openpyxl  # a core dependency, imported here to keep `oshie --help` fast

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DataError(f"not a readable .xlsx workbook ({exc})", path=path,
                        hint="save it from Excel as 'Excel Workbook (*.xlsx)'") from None
    ws = _data_sheet(wb)
    display = f"{path} (sheet '{ws.title}')"
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if header is None or all(c is None for c in header):
        wb.close()
        raise DataError("the sheet is empty (no header row)", path=display, line=1, line_label="row",
                        hint="put column names in row 1")
    _check_header(path, display, list(header), "row")
    notes = [f"read sheet '{ws.title}' of {len(wb.worksheets)}"] if len(wb.worksheets) > 1 else []

    def rows() -> Iterator[tuple[int, list[Any], str | None]]:
        for i, values in enumerate(it, start=2):
            cells = [_xlsx_value(v) for v in values]
            yield i, cells, None
        wb.close()

    total = (ws.max_row or 1) - 1
    return Source(path, display, "xlsx", None, "row", total, _cell_rows(display, list(header), rows()), notes)


def _data_sheet(wb: Any) -> Any:
    """The first sheet whose header names a known format (workbooks often open with a guide sheet)."""
    for ws in wb.worksheets:
        header = next(ws.iter_rows(max_row=1, values_only=True), None) or ()
        if detect_format([{str(h).strip(): None for h in header if h is not None}]):
            return ws
    return wb.worksheets[0]


def _xlsx_value(v: Any) -> Any:
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def _table_rows(batches: Iterator[Any]) -> Iterator[RawRow]:
    line = 0
    for batch in batches:
        for row in batch.to_pylist():
            line += 1
            yield RawRow(line, None, row)


def _open_parquet(path: Path, max_line_bytes: int) -> Source:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"not a readable Parquet file ({exc})", path=path) from None
    if pf.metadata.num_rows == 0:
        raise DataError("the table has no rows", path=path, hint="write at least one record")
    return Source(path, str(path), "parquet", None, "row", pf.metadata.num_rows,
                  _table_rows(pf.iter_batches(batch_size=4096)))


def _open_hf(path: Path, max_line_bytes: int) -> Source:
    if not ((path / "dataset_info.json").exists() or (path / "state.json").exists()
            or (path / "dataset_dict.json").exists()):
        raise DataError("this directory is not a dataset saved with `save_to_disk`", path=path,
                        hint="point at a directory holding state.json / dataset_info.json")
    datasets = require("datasets", "train")
    ds = datasets.load_from_disk(str(path))
    notes = []
    if isinstance(ds, datasets.DatasetDict):
        splits = list(ds)
        if "train" not in ds and len(splits) != 1:
            raise DataError(f"the dataset has splits {splits} and none is 'train'", path=path,
                            hint=f"point at one split's directory, e.g. {path / splits[0]}")
        split = "train" if "train" in ds else splits[0]
        notes.append(f"read split '{split}' of {splits}")
        ds = ds[split]
    if len(ds) == 0:
        raise DataError("the dataset has no rows", path=path)
    table = ds.data.table if hasattr(ds.data, "table") else ds.data
    return Source(path, str(path), "hf", None, "row", len(ds), _table_rows(iter(table.to_batches(4096))), notes)


OPENERS: dict[str, Callable[[Path, int], Source]] = {
    "jsonl": _open_jsonl,
    "json": _open_json,
    "csv": lambda p, m: _open_delimited(p, m, ",", "csv"),
    "tsv": lambda p, m: _open_delimited(p, m, "\t", "tsv"),
    "xlsx": _open_xlsx,
    "parquet": _open_parquet,
    "hf": _open_hf,
    "txt": _open_txt,
}


def open_source(path: str | Path, file_type: str | None = None,
                max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Source:
    p = Path(path)
    if not p.exists():
        raise UsageError("no such file", path=p, hint="check the path")
    kind = file_type_of(p, file_type)
    if kind != "hf" and p.is_dir():
        raise UsageError("expected a file, got a directory", path=p)
    if kind != "hf" and p.stat().st_size == 0:
        raise DataError("the file is empty (0 bytes)", path=p, hint="write at least one record")
    return OPENERS[kind](p, max_line_bytes)


# ---------------------------------------------------------------- writers

EXCEL_CELL_LIMIT = 32767


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def columns_of(rows: list[dict[str, Any]]) -> list[str]:
    cols: dict[str, None] = {}
    for row in rows:
        for key in row:
            cols.setdefault(key, None)
    return list(cols)


def check_row(row: dict[str, Any], file_type: str, encoding: str = "utf-8") -> None:
    """Raise RowError if this file type (or encoding) cannot hold the row."""
    if file_type == "xlsx":
        for key, value in row.items():
            text = _cell(value)
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


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_jsonl(path: Path, rows: list[dict[str, Any]], encoding: str) -> None:
    def go(tmp: Path) -> None:
        with open(tmp, "w", encoding=encoding, newline="\n") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False))
                fh.write("\n")
    _atomic(path, go)


def _write_json(path: Path, rows: list[dict[str, Any]], encoding: str) -> None:
    def go(tmp: Path) -> None:
        with open(tmp, "w", encoding=encoding, newline="\n") as fh:
            json.dump(rows, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
    _atomic(path, go)


def _write_delimited(path: Path, rows: list[dict[str, Any]], encoding: str, delimiter: str) -> None:
    cols = columns_of(rows)

    def go(tmp: Path) -> None:
        with open(tmp, "w", encoding=encoding, newline="") as fh:
            w = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n")  # RFC 4180 / Excel
            w.writerow(cols)
            for row in rows:
                w.writerow(["" if row.get(c) is None else _cell(row.get(c)) for c in cols])
    _atomic(path, go)


def _write_xlsx(path: Path, rows: list[dict[str, Any]], encoding: str) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    cols = columns_of(rows)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.append(cols)
    for row in rows:
        cells = []
        for c in cols:
            value = _cell(row.get(c))
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, not a formula
            cells.append(cell)
        ws.append(cells)
    _atomic(path, lambda tmp: wb.save(tmp))


def _arrow_table(rows: list[dict[str, Any]]) -> Any:
    """Columns keep their types where they agree (message lists stay lists of structs);
    objects and columns of mixed types become JSON text, which the readers parse back."""
    import pyarrow as pa

    cols = columns_of(rows)
    arrays = []
    for c in cols:
        values = [row.get(c) for row in rows]
        if any(isinstance(v, dict) for v in values):
            values = [None if v is None else _cell(v) for v in values]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array([None if v is None else (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for v in values]))
    return pa.Table.from_arrays(arrays, names=cols)


def _write_parquet(path: Path, rows: list[dict[str, Any]], encoding: str) -> None:
    import pyarrow.parquet as pq

    table = _arrow_table(rows)
    _atomic(path, lambda tmp: pq.write_table(table, tmp))


def _write_hf(path: Path, rows: list[dict[str, Any]], encoding: str) -> None:
    datasets = require("datasets", "train")
    ds = datasets.Dataset(_arrow_table(rows))
    was_disabled = datasets.utils.are_progress_bars_disabled()
    datasets.utils.disable_progress_bars()  # a second bar (tqdm) for a few rows only adds noise
    try:
        ds.save_to_disk(str(path))
    finally:
        if not was_disabled:
            datasets.utils.enable_progress_bars()


WRITERS: dict[str, Callable[[Path, list[dict[str, Any]], str], None]] = {
    "jsonl": _write_jsonl,
    "json": _write_json,
    "csv": lambda p, r, e: _write_delimited(p, r, e, ","),
    "tsv": lambda p, r, e: _write_delimited(p, r, e, "\t"),
    "xlsx": _write_xlsx,
    "parquet": _write_parquet,
    "hf": _write_hf,
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
