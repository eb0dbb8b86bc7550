"""Read and write instruction data in any supported file type and format.

    load_records(path, fmt=None)        -> list of Conversation / PreferencePair (first bad record raises)
    iter_records(path, fmt=None)        -> RecordStream: one RecordResult per record, good or bad
    write_records(path, records, fmt)   -> file type from the extension (JSONL by default)

The format is detected from the fields of the first rows unless given; the stream says
which format, file type and encoding it found.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from oshie.console import progress
from oshie.data.files import (
    DEFAULT_MAX_LINE_BYTES,
    RawRow,
    Source,
    check_row,
    file_type_of,
    open_source,
    write_rows,
)
from oshie.data.formats import FORMATS, Format, RowContext, RowError, detect_format, get_format
from oshie.errors import DataError
from oshie.records import Record

DETECT_ROWS = 50  # rows read ahead to detect the format


@dataclass
class RecordResult:
    """One record of a file: accepted (`record`) or rejected (`error`), with its source text."""

    line: int
    source: RawRow
    record: Record | None = None
    error: DataError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def raw(self) -> str:
        """The record's original text (a line, or a table row as JSON)."""
        return self.source.text


class RecordStream:
    """Iterate (once) over the records of one file; knows its file type, encoding and format."""

    def __init__(self, path: str | Path, fmt: str | None = None, *, file_type: str | None = None,
                 max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self.source: Source = open_source(path, file_type, max_line_bytes)
        self.path = self.source.path
        self._ahead: list[RawRow] = []
        if fmt is not None and fmt.lower() == "auto":
            fmt = None
        self.detected = fmt is None
        self.format: Format | None = get_format(fmt) if fmt else self._detect()

    @property
    def file_type(self) -> str:
        return self.source.file_type

    @property
    def encoding(self) -> str:
        """A readable name of the text encoding ('-' for binary tables)."""
        return self.source.encoding_name

    @property
    def total(self) -> int | None:
        return self.source.total

    def describe(self) -> str:
        how = "detected" if self.detected else "given"
        name = self.format.name if self.format else "unknown"
        return f"{self.file_type}, {self.encoding}, format {name} ({how})"

    def _detect(self) -> Format | None:
        parsed: list[dict[str, Any]] = []
        for raw in self.source.rows:
            self._ahead.append(raw)
            if raw.row is not None:
                parsed.append(raw.row)
                fmt = detect_format([raw.row])
                if fmt is not None:
                    return fmt
            if len(self._ahead) >= DETECT_ROWS:
                break
        if not parsed:
            return None  # no readable row at all: every row reports its own error
        fields = sorted({k for row in parsed for k in row})
        known = "; ".join(f"{f.name}: {', '.join(f.required)}" for f in FORMATS.values())
        raise DataError(
            f"cannot tell the format from the fields {fields}",
            path=self.source.display,
            hint=f"pass the format (--from / --format); formats and their fields: {known}",
        )

    def __iter__(self) -> Iterator[RecordResult]:
        src = self.source
        label = src.line_label
        stem = Path(src.path).stem
        for raw in chain(self._ahead, src.rows):
            err = raw.error
            if self.format is None and raw.row is not None:  # every row read ahead was unreadable
                self.format = detect_format([raw.row])
            if err is None and self.format is not None and raw.row is not None:
                try:
                    ctx = RowContext(stem, raw.line, src.tabular)
                    yield RecordResult(raw.line, raw, self.format.read_row(raw.row, ctx))
                    continue
                except RowError as exc:
                    err = exc
            if err is None and raw.row is not None:  # no format could be detected
                err = RowError(f"cannot tell the format from the fields {sorted(raw.row)}", None,
                               "pass the format (--from / --format)")
            assert err is not None
            yield RecordResult(raw.line, raw, error=DataError(
                err.message, path=src.display, line=raw.line, field=err.field, hint=err.hint,
                line_label=label))
        self._ahead = []


def track_stream(stream: RecordStream, description: str, every: int = 512) -> Iterator[RecordResult]:
    """Iterate with a progress bar, advanced in steps (a per-record update costs more than a record)."""
    with progress() as bar:
        task = bar.add_task(description, total=stream.total)
        pending = 0
        for result in stream:
            yield result
            pending += 1
            if pending == every:
                bar.advance(task, pending)
                pending = 0
        bar.update(task, advance=pending, total=bar.tasks[0].completed + pending)


def iter_records(path: str | Path, fmt: str | None = None, *, file_type: str | None = None,
                 max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> RecordStream:
    """Per-record results (accepted or rejected with the reason), for validate and quarantine."""
    return RecordStream(path, fmt, file_type=file_type, max_line_bytes=max_line_bytes)


def load_records(path: str | Path, fmt: str | None = None, *, file_type: str | None = None) -> list[Record]:
    """All records of a file; raises DataError (file, line, field) on the first invalid one."""
    out: list[Record] = []
    for result in iter_records(path, fmt, file_type=file_type):
        if result.error is not None:
            raise result.error
        out.append(result.record)  # type: ignore[arg-type]
    return out


def record_to_row(record: Record, fmt: str | Format = "messages", file_type: str = "jsonl",
                  encoding: str = "utf-8") -> dict[str, Any]:
    """One record as a row of `fmt`; raises RowError if the format or file cannot hold it."""
    f = fmt if isinstance(fmt, Format) else get_format(fmt)
    row = f.write_row(record)
    check_row(row, file_type, encoding)
    return row


def write_records(path: str | Path, records: Iterable[Record], fmt: str = "messages", *,
                  file_type: str | None = None, encoding: str = "utf-8") -> int:
    """Write records as `fmt`; the file type comes from the extension (JSONL by default,
    `file_type="hf"` for a `save_to_disk` directory). Returns the number written."""
    f = get_format(fmt)
    kind = file_type_of(path, file_type)
    rows = []
    for record in records:
        try:
            rows.append(record_to_row(record, f, kind, encoding))
        except RowError as exc:
            raise DataError(f"record '{record.id}' cannot be written: {exc.message}",
                            path=path, field=exc.field, hint=exc.hint) from None
    write_rows(path, rows, kind, encoding)
    return len(rows)
