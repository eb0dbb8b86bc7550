"""Excel workbooks (.xlsx): reader and writer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

from oshie.data.files.base import RawRow, Source, atomic, cell_rows, check_header, table_cells
from oshie.errors import DataError, RowError

# The shared-strings table is read whole even in openpyxl's streaming mode; a small zip
# can hold a huge one (815 MB of memory from a 1.2 MB file), so its size is checked first.
# Parsed, it takes about 7x its XML size at worst (400k tiny strings: 8.3 MiB -> 55 MiB), so
# 64 MiB bounds it near 450 MB while a Dolly-sized workbook (15k records) still reads.
MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024
FORMULA_HINT = ("open the workbook in Excel or LibreOffice and save it (that stores the computed values), "
                "or paste the values over the formulas")


@dataclass(frozen=True)
class _Uncached:
    """A formula cell whose computed value was never stored in the file."""

    formula: str


def _check_archive(path: Path) -> None:
    from zipfile import BadZipFile, ZipFile

    try:
        with ZipFile(path) as zf:
            sizes = {i.filename: i.file_size for i in zf.infolist()}
    except (BadZipFile, OSError) as exc:
        raise DataError(f"not a readable .xlsx workbook ({exc})", path=path,
                        hint="save it from Excel as 'Excel Workbook (*.xlsx)'") from None
    size = sizes.get("xl/sharedStrings.xml", 0)
    if size > MAX_SHARED_STRINGS_BYTES:
        raise DataError(f"the workbook's shared-strings table is {size / 2**20:.0f} MiB uncompressed, "
                        f"over the {MAX_SHARED_STRINGS_BYTES / 2**20:.0f} MiB that is read into memory",
                        path=path, hint="export the sheet as CSV (or JSONL) and read that instead")


def _has_formulas(path: Path, sheet_index: int) -> bool:
    """Whether the sheet's XML holds any formula (read in chunks, never whole)."""
    from zipfile import ZipFile

    with ZipFile(path) as zf:
        name = f"xl/worksheets/sheet{sheet_index + 1}.xml"
        if name not in zf.namelist():
            return True  # an unusual layout: take the careful path
        tail = b""
        with zf.open(name) as fh:
            while block := fh.read(1 << 20):
                if b"<f>" in tail + block or b"<f " in tail + block:
                    return True
                tail = block[-3:]
    return False


def open_xlsx(path: Path, max_line_bytes: int, is_data_header: Callable[[list[str]], bool] | None = None) -> Source:
    import openpyxl  # a core dependency, imported here to keep `oshie --help` fast

    _check_archive(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (KeyError, OSError, ValueError) as exc:
        raise DataError(f"not a readable .xlsx workbook ({exc})", path=path,
                        hint="save it from Excel as 'Excel Workbook (*.xlsx)'") from None
    ws = data_sheet(wb, is_data_header)
    display = f"{path} (sheet '{ws.title}')"
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if header is None or all(c is None for c in header):
        wb.close()
        raise DataError("the sheet is empty (no header row)", path=display, line=1, line_label="row",
                        hint="put column names in row 1")
    check_header(path, display, list(header), "row")
    notes = [f"read sheet '{ws.title}' of {len(wb.worksheets)}"] if len(wb.worksheets) > 1 else []
    formulas = None
    if _has_formulas(path, wb.worksheets.index(ws)):  # a second, formula view of the same sheet
        fwb = openpyxl.load_workbook(path, read_only=True, data_only=False)
        formulas = fwb[ws.title].iter_rows(values_only=True)
        next(formulas, None)

    def rows() -> Iterator[tuple[int, list[Any], str | None]]:
        for i, values in enumerate(it, start=2):
            shown = next(formulas, ()) if formulas is not None else ()
            cells = [_Uncached(f) if v is None and isinstance(f, str) and f.startswith("=") else xlsx_value(v)
                     for v, f in zip_longest(values, shown[:len(values)])]
            yield i, cells, None
        wb.close()
        if formulas is not None:
            fwb.close()

    total = (ws.max_row or 1) - 1
    return Source(path, display, "xlsx", None, "row", total,
                  _uncached_to_errors(cell_rows(display, list(header), rows())), notes)


def _uncached_to_errors(rows: Iterator[RawRow]) -> Iterator[RawRow]:
    """A row that depends on a formula without a stored value cannot be read: it is
    reported (and quarantined) with the formula, never silently dropped."""
    for raw in rows:
        bad = [(k, v) for k, v in (raw.row or {}).items() if isinstance(v, _Uncached)]
        if bad:
            key, cell = bad[0]
            row = {k: (f"={v.formula.lstrip('=')}" if isinstance(v, _Uncached) else v) for k, v in raw.row.items()}
            yield RawRow(raw.line, json.dumps(row, ensure_ascii=False, default=str), error=RowError(
                f"formula {cell.formula} has no stored value ({len(bad)} such cells in the row)", key, FORMULA_HINT))
        else:
            yield raw


def data_sheet(wb: Any, is_data_header: Callable[[list[str]], bool] | None) -> Any:
    """The first sheet whose header `is_data_header` accepts (workbooks often open with a guide sheet)."""
    if is_data_header is not None:
        for ws in wb.worksheets:
            header = next(ws.iter_rows(max_row=1, values_only=True), None) or ()
            if is_data_header([str(h).strip() for h in header if h is not None]):
                return ws
    return wb.worksheets[0]


def xlsx_value(v: Any) -> Any:
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def write_xlsx(path: Path, rows: list[dict[str, Any]], encoding: str) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    cols, cells = table_cells(rows)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.append(cols)
    for values in cells:
        row = []
        for value in values:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, not a formula
            row.append(cell)
        ws.append(row)
    atomic(path, lambda tmp: wb.save(tmp))

