"""Validate and convert files without ever dropping a record silently.

Every record read is either written (convert), or accepted (validate), or quarantined:
records in = written + quarantined. The quarantine file is JSONL, one object per
rejected record: file, line, field, reason, hint, stage (read/write) and the raw text.
`strict=True` turns the first problem into an error and writes nothing.
`require_answer=False` accepts instructions without answers (synthesis inputs, .txt files).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oshie.data.files import DEFAULT_MAX_LINE_BYTES, output_type_of, write_rows
from oshie.data.formats import RowError, get_format
from oshie.data.io import DuplicateIds, RecordResult, RecordStream, record_to_row, track_stream
from oshie.errors import DataError
from oshie.jsonl import JsonlWriter
from oshie.paths import guard_outputs
from oshie.records import Conversation

KEEP_ERRORS = 200  # errors kept in memory for the summary; all go to the quarantine file


@dataclass
class Summary:
    source: str
    file_type: str
    encoding: str
    format: str | None
    detected: bool
    records_in: int = 0
    written: int = 0
    quarantined: int = 0
    unanswered: int = 0  # accepted instructions without an answer (require_answer=False)
    errors: list[DataError] = field(default_factory=list)
    by_field: Counter[str] = field(default_factory=Counter)
    output: str | None = None
    output_format: str | None = None
    quarantine: str | None = None
    notes: list[str] = field(default_factory=list)
    duplicate_ids: list[tuple[str, int, int]] = field(default_factory=list)  # (id, first line, line)

    @property
    def accepted(self) -> int:
        return self.records_in - self.quarantined

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "file_type": self.file_type, "encoding": self.encoding,
            "format": self.format, "format_detected": self.detected,
            "records_in": self.records_in, "accepted": self.accepted, "written": self.written,
            "quarantined": self.quarantined, "unanswered": self.unanswered, "output": self.output, "output_format": self.output_format,
            "quarantine": self.quarantine, "errors_by_field": dict(self.by_field),
            "errors": [{"line": e.line, "field": e.field, "reason": e.message} for e in self.errors],
            "notes": self.notes,
            "duplicate_ids": [{"id": i, "first_line": a, "line": b} for i, a, b in self.duplicate_ids],
        }


class _Quarantine:
    """Appends rejected records to a JSONL file (opened on first use unless `always`)."""

    def __init__(self, path: Path | None, always: bool) -> None:
        self.path = path
        self._out: JsonlWriter | None = None
        if path is not None and always:
            self._open()

    def _open(self) -> JsonlWriter:
        assert self.path is not None
        self._out = JsonlWriter(self.path)
        return self._out

    @property
    def opened(self) -> bool:
        return self._out is not None

    def add(self, err: DataError, raw: str, stage: str, record_id: str | None = None) -> None:
        if self.path is None:
            return
        out = self._out or self._open()
        # a raw line may hold the very bytes that made it invalid: the writer escapes them
        out.write({"file": err.path, "line": err.line, "field": err.field, "reason": err.message,
                   "hint": err.hint, "stage": stage, "id": record_id, "raw": raw})

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


def _open(path: str | Path, fmt: str | None, file_type: str | None, max_line_bytes: int,
          require_answer: bool) -> tuple[RecordStream, Summary]:
    stream = RecordStream(path, fmt, file_type=file_type, max_line_bytes=max_line_bytes,
                          require_answer=require_answer)
    summary = Summary(stream.source.display, stream.file_type, stream.encoding,
                      stream.format.name if stream.format else None, stream.detected,
                      notes=list(stream.source.notes))
    return stream, summary


def _reject(summary: Summary, quarantine: _Quarantine, err: DataError, raw: str, stage: str,
            strict: bool, record_id: str | None = None) -> None:
    if strict:
        raise DataError(err.message, path=err.path, line=err.line, field=err.field,
                        hint=(err.hint + "; " if err.hint else "") + "--strict stops at the first problem",
                        line_label=err.line_label)
    summary.quarantined += 1
    summary.by_field[re.sub(r"\[\d+\]", "[]", err.field) if err.field else "(whole record)"] += 1
    if len(summary.errors) < KEEP_ERRORS:
        summary.errors.append(err)
    quarantine.add(err, raw, stage, record_id)


def _results(stream: RecordStream, what: str) -> Any:
    return track_stream(stream, f"{what} {stream.path.name}")


def _count_unanswered(summary: Summary, result: RecordResult) -> None:
    rec = result.record
    if isinstance(rec, Conversation) and rec.messages and rec.messages[-1].role == "user":
        summary.unanswered += 1


def validate_file(path: str | Path, fmt: str | None = None, *, quarantine: str | Path | None = None,
                  strict: bool = False, file_type: str | None = None,
                  max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, require_answer: bool = True) -> Summary:
    """Read every record and report (and optionally quarantine) the invalid ones."""
    guard_outputs([quarantine], [path], option="--quarantine")
    stream, summary = _open(path, fmt, file_type, max_line_bytes, require_answer)
    q = _Quarantine(Path(quarantine) if quarantine else None, always=True)
    summary.quarantine = str(quarantine) if quarantine else None
    ids = DuplicateIds()
    try:
        result: RecordResult
        for result in _results(stream, "validating"):
            summary.records_in += 1
            if result.error is not None:
                _reject(summary, q, result.error, result.raw, "read", strict)
            else:
                _count_unanswered(summary, result)
                ids.see(result.record.id, result.line)  # type: ignore[union-attr]
    finally:
        q.close()
    summary.duplicate_ids = ids.repeats
    summary.format = stream.format.name if stream.format else None
    return summary


def default_quarantine(out: str | Path) -> Path:
    p = Path(out)
    return p.with_name(p.name + ".quarantine.jsonl")


def convert_file(src: str | Path, dst: str | Path, *, from_fmt: str | None = None, to_fmt: str = "messages",
                 quarantine: str | Path | None = None, strict: bool = False,
                 in_file_type: str | None = None, out_file_type: str | None = None,
                 encoding: str = "utf-8", max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                 require_answer: bool = True) -> Summary:
    """Convert `src` to `dst` in format `to_fmt`; records that cannot be read or written go to
    the quarantine file (by default `<dst>.quarantine.jsonl`, created only when needed)."""
    out_fmt = get_format(to_fmt)
    out_kind = output_type_of(dst, out_file_type)
    qpath = Path(quarantine) if quarantine else default_quarantine(dst)
    guard_outputs([dst, qpath], [src])
    stream, summary = _open(src, from_fmt, in_file_type, max_line_bytes, require_answer)
    q = _Quarantine(qpath, always=quarantine is not None)
    summary.output, summary.output_format = str(dst), out_fmt.name
    rows: list[dict[str, Any]] = []
    try:
        for result in _results(stream, "converting"):
            summary.records_in += 1
            if result.error is not None:
                _reject(summary, q, result.error, result.raw, "read", strict)
                continue
            record = result.record
            assert record is not None
            try:
                rows.append(record_to_row(record, out_fmt, out_kind, encoding))
                _count_unanswered(summary, result)
            except RowError as exc:
                err = DataError(f"cannot be written as {out_fmt.name} {out_kind}: {exc.message}",
                                path=stream.source.display, line=result.line, field=exc.field, hint=exc.hint,
                                line_label=stream.source.line_label)
                _reject(summary, q, err, result.raw, "write", strict, record.id)
    finally:
        q.close()
    summary.format = stream.format.name if stream.format else None
    if q.opened:
        summary.quarantine = str(qpath)
    if rows:
        write_rows(dst, rows, out_kind, encoding)
    summary.written = len(rows)
    return summary
