"""CSV and TSV (RFC 4180, as Excel writes them): reader and writer.

Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab
or a carriage return as a formula (`=HYPERLINK(...)`, `+cmd|...`). The writer puts an
apostrophe before such a text cell, and before one that already starts with apostrophes
followed by such a character; the reader takes exactly one apostrophe off the same
cells, so a CSV written by oshie reads back unchanged. Numbers are written as they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oshie.data.files.base import Source, atomic, cell_rows, check_header, read_text, table_cells
from oshie.errors import DataError

_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")


def neutralise_formula(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, with an apostrophe in front."""
    return "'" + value if isinstance(value, str) and _FORMULA.match(value) else value


def restore_formula(value: str) -> str:
    """The inverse of `neutralise_formula` on a cell read back."""
    return value[1:] if _ESCAPED.match(value) else value


def open_delimited(path: Path, max_line_bytes: int, delimiter: str, kind: str) -> Source:
    text, enc = read_text(path)
    lines = list(io.StringIO(text, newline=""))
    csv.field_size_limit(max(max_line_bytes, 1 << 20))
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise DataError(f"cannot read the header: {exc}", path=path, line=1) from None
    check_header(path, str(path), header, "line")

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
            yield start, [restore_formula(c) for c in cells], raw
            start = reader.line_num + 1

    return Source(path, str(path), kind, enc, "line", len(lines) - 1, cell_rows(str(path), header, rows()))


def write_delimited(path: Path, rows: list[dict[str, Any]], encoding: str, delimiter: str) -> None:
    cols, cells = table_cells(rows)

    def go(tmp: Path) -> None:
        with open(tmp, "w", encoding=encoding, newline="") as fh:
            w = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n")  # RFC 4180 / Excel
            w.writerow(cols)
            for values in cells:
                w.writerow(["" if v is None else neutralise_formula(v) for v in values])
    atomic(path, go)

