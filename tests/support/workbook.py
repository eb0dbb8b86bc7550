"""Spreadsheets as people make them, written with openpyxl for the reader tests."""

from __future__ import annotations

from pathlib import Path


def write_workbook(path: Path, rows: list[list[object]], title: str = "data") -> Path:
    """One sheet named `title` holding `rows` as written (None leaves a cell blank)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path
