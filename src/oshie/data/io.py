"""Read and write instruction data in any supported file type and format.

    load_records(path, fmt=None)        -> list of Conversation / PreferencePair (first bad record raises)
    iter_records(path, fmt=None)        -> RecordStream: one RecordResult per record, good or bad
    write_records(path, records, fmt)   -> file type from the extension (JSONL by default)

The format is detected from the fields of the first rows unless given; the stream says
which format, file type and encoding it found.

Training data needs answers, so by default every record must have one. Synthesis
reads instructions without answers: pass `require_answer=False` and chats ending
with the user, rows whose answer field is missing or blank, and `.txt` files (one
instruction per line, ids `<stem>-<line>`) become user-only `Conversation`s.
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
    open_source,
    output_type_of,
    write_rows,
)
from oshie.data.formats import FORMATS, Format, RowContext, RowError, detect_format, get_format
from oshie.errors import DataError, UsageError
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
                 max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, require_answer: bool = True) -> None:
        self.source: Source = open_source(path, file_type, max_line_bytes, is_data_header=_names_a_format)
        self.path = self.source.path
        self.require_answer = require_answer
        self._ahead: list[RawRow] = []
        if fmt is not None and fmt.lower() == "auto":
            fmt = None
        if self.source.file_type == "txt":
            self._check_txt(fmt)
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

    def _check_txt(self, fmt: str | None) -> None:
        if self.require_answer:
            raise DataError(
                "a .txt file holds instructions without answers (one per line), not records with answers",
                path=self.source.display,
                hint="read it with --allow-unanswered (require_answer=False), e.g. as synthesis input; "
                     "training data with answers goes in .jsonl",
            )
        if fmt is not None and get_format(fmt).name != "prompt_completion":
            raise UsageError(f"a .txt file has no '{fmt}' format: each line is one instruction",
                             path=self.source.display, hint="leave out --from / --format")

    def _detect(self) -> Format | None:
        parsed: list[dict[str, Any]] = []
        for raw in self.source.rows:
            self._ahead.append(raw)
            if raw.row is not None:
                parsed.append(raw.row)
                fmt = detect_format([raw.row], self.require_answer)
                if fmt is not None:
                    return fmt
            if len(self._ahead) >= DETECT_ROWS:
                break
        if not parsed:
            return None  # no readable row at all: every row reports its own error
        fields = sorted({k for row in parsed for k in row})
        known = "; ".join(f"{f.name}: {', '.join(f.required)}" for f in FORMATS.values())
        if not self.require_answer:
            known += " (without answers: " + "; ".join(
                f"{f.name}: {', '.join(f.prompt_fields)}" for f in FORMATS.values() if f.prompt_fields) + ")"
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
                self.format = detect_format([raw.row], self.require_answer)
            if err is None and self.format is not None and raw.row is not None:
                try:
                    ctx = RowContext(stem, raw.line, src.tabular, self.require_answer, raw.position)
                    yield RecordResult(raw.line, raw, self.format.read_row(raw.row, ctx))
                    continue
                except RowError as exc:
                    err = exc
                except RecursionError:  # JSON text nested thousands deep inside a field or cell
                    err = RowError("a field holds JSON nested too deeply to read", None,
                                   "records are objects of text fields and message lists; flatten the data")
            if err is None and raw.row is not None:  # no format could be detected
                err = RowError(f"cannot tell the format from the fields {sorted(raw.row)}", None,
                               "pass the format (--from / --format)")
            assert err is not None
            yield RecordResult(raw.line, raw, error=DataError(
                err.message, path=src.display, line=raw.line, field=err.field, hint=err.hint,
                line_label=label))
        self._ahead = []


def _names_a_format(header: list[str]) -> bool:
    return detect_format([dict.fromkeys(header)]) is not None


class DuplicateIds:
    """Remembers where each record id was first seen; `see` returns that line for a repeat.

    Ids come from the source (`id`, `ID`, `index`) when it has them, so two records can
    share one; validation warns with both lines and the audit lists them."""

    def __init__(self) -> None:
        self.first: dict[str, int] = {}
        self.repeats: list[tuple[str, int, int]] = []  # (id, first line, this line)

    def see(self, record_id: str, line: int) -> int | None:
        first = self.first.get(record_id)
        if first is None:
            self.first[record_id] = line
            return None
        self.repeats.append((record_id, first, line))
        return first


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
                 max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, require_answer: bool = True) -> RecordStream:
    """Per-record results (accepted or rejected with the reason), for validate and quarantine.
    `require_answer=False` also accepts instructions without answers (see the module doc)."""
    return RecordStream(path, fmt, file_type=file_type, max_line_bytes=max_line_bytes,
                        require_answer=require_answer)


def load_records(path: str | Path, fmt: str | None = None, *, file_type: str | None = None,
                 require_answer: bool = True) -> list[Record]:
    """All records of a file; raises DataError (file, line, field) on the first invalid one.
    `require_answer=False` also accepts instructions without answers (see the module doc)."""
    out: list[Record] = []
    for result in iter_records(path, fmt, file_type=file_type, require_answer=require_answer):
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
    kind = output_type_of(path, file_type)
    rows = []
    for record in records:
        try:
            rows.append(record_to_row(record, f, kind, encoding))
        except RowError as exc:
            raise DataError(f"record '{record.id}' cannot be written: {exc.message}",
                            path=path, field=exc.field, hint=exc.hint) from None
    write_rows(path, rows, kind, encoding)
    return len(rows)
