"""Hostile or odd input files end in a clear error or a quarantined row, never a traceback:
deep JSON, Arrow types JSON cannot hold, a CP932 row in a UTF-8 CSV, spreadsheet formulas,
huge shared-strings tables, NaN; and CSV output never carries a live formula."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from pathlib import Path

import pytest
from tests.support.cli import run_cli
from tests.support.workbook import write_workbook

from oshie.data import iter_records, load_records, write_records
from oshie.errors import DataError
from oshie.records import Conversation, Message

DEEP = "[" * 100_000 + "]" * 100_000


def test_a_deeply_nested_json_array_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(DEEP, "utf-8")
    with pytest.raises(DataError, match="nested too deeply"):
        load_records(path)


def test_a_jsonl_starting_with_a_deep_bracket_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text(DEEP + "\n" + json.dumps({"instruction": "q", "output": "a"}) + "\n", "utf-8")
    results = list(iter_records(path, "alpaca"))
    assert [r.ok for r in results] == [False, True]
    assert results[0].error.line == 1 and "nested too deeply" in results[0].error.message


def test_json_nested_too_deeply_inside_a_csv_cell_is_one_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    path.write_text('messages\n"' + "[" * 50_000 + '"\n"[{""role"": ""user"", ""content"": ""q""}, '
                    '{""role"": ""assistant"", ""content"": ""a""}]"\n', "utf-8")
    results = list(iter_records(path, "messages"))
    assert [r.ok for r in results] == [False, True]
    assert "nested too deeply" in results[0].error.message and results[0].error.line == 2


def test_parquet_dates_binary_and_decimals_become_json_safe(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({
        "instruction": ["q1", "q2"], "output": ["a1", "a2"],
        "created": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5), None], pa.timestamp("us")),
        "day": pa.array([dt.date(2024, 1, 2), dt.date(2023, 12, 31)]),
        "blob": pa.array([b"\x00\xff", b"ok"]),
        "price": pa.array([decimal.Decimal("1.10"), decimal.Decimal("2")], pa.decimal128(5, 2)),
        "tags": pa.array([[dt.date(2024, 5, 6)], []]),
    })
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path)
    records = load_records(path)
    extra = records[0].metadata.model_dump()["extra"]
    assert extra == {"created": "2024-01-02T03:04:05", "day": "2024-01-02", "blob": "AP8=",
                     "price": "1.10", "tags": ["2024-05-06"]}
    out = tmp_path / "out.jsonl"
    write_records(out, records)  # used to fail with "not JSON serializable" after reading everything
    assert json.loads(out.read_text("utf-8").splitlines()[1])["price"] == "2.00"


def _cp932_csv(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.csv"
    good = "instruction,output\n日本の首都は？,東京です。\n富士山の高さは？,3776メートルです。\n"
    path.write_bytes(good.encode("utf-8") + "壊れた行,シフトJIS\n".encode("cp932"))
    return path


@pytest.mark.parametrize("command", ["check", "dedup"])
def test_check_and_dedup_quarantine_a_cp932_row_of_a_utf8_csv(tmp_path: Path, command: str) -> None:
    path = _cp932_csv(tmp_path)
    code, _, message = run_cli(["data", command, str(path), "--out", str(tmp_path / "run"),
                                *(["--drop", "error"] if command == "check" else [])])
    assert code == 0, message
    lines = (tmp_path / "run" / "quarantine.jsonl").read_text("utf-8").splitlines()
    bad = [json.loads(line) for line in lines]  # every line is whole, valid JSON
    assert any(b.get("line") == 4 or "4" in json.dumps(b) for b in bad)
    kept = (tmp_path / "run" / "kept.jsonl").read_text("utf-8").splitlines()
    assert len(kept) == 2


FORMULAS = ["=HYPERLINK(\"http://x\",\"click\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)",
            "\tindent", "\rcr", "'=already quoted", "普通の文", "- 箇条書き"]


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_csv_export_neutralises_formulas_and_reads_back_unchanged(tmp_path: Path, suffix: str) -> None:
    records = [Conversation(id=f"r{i}", messages=[Message(role="user", content=text),
                                                  Message(role="assistant", content="答え")])
               for i, text in enumerate(FORMULAS)]
    path = tmp_path / f"out{suffix}"
    write_records(path, records, "alpaca")
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        cells = [row[1] for row in csv.reader(fh, delimiter="," if suffix == ".csv" else "\t")][1:]
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert [r.instruction for r in load_records(path)] == FORMULAS


def test_xlsx_rows_of_formulas_without_stored_values_are_counted_and_quarantined(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "f.xlsx", [["instruction", "output"], ["q1", "a1"],
                                          ["=A2&\"!\"", "=B2"], ["q3", "a3"]])
    results = list(iter_records(path))
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error.line == 3 and "formula" in results[1].error.message
    code, _, _ = run_cli(["data", "convert", str(path), str(tmp_path / "o.jsonl")])
    q = (tmp_path / "o.jsonl.quarantine.jsonl").read_text("utf-8").splitlines()
    assert code == 0 and len(q) == 1 and json.loads(q[0])["line"] == 3


def test_xlsx_without_formulas_reads_as_before(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "plain.xlsx", [["instruction", "output"], ["q1", "a1"], ["q2", "a2"]])
    assert [r.answer for r in load_records(path)] == ["a1", "a2"]


def test_an_oversized_shared_strings_table_is_refused_before_reading(tmp_path: Path, monkeypatch) -> None:
    import zipfile

    from oshie.data.files import xlsx as xlsx_files

    path = write_workbook(tmp_path / "big.xlsx", [["instruction", "output"], ["q", "a"]])
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:  # as Excel writes text cells
        zf.writestr("xl/sharedStrings.xml", "<sst>" + "<si><t>x</t></si>" * 5000 + "</sst>")
    monkeypatch.setattr(xlsx_files, "MAX_SHARED_STRINGS_BYTES", 50_000)
    with pytest.raises(DataError, match="shared-strings table"):
        load_records(path)


def test_the_jsonl_writer_turns_nan_and_infinity_into_null(tmp_path: Path, capsys) -> None:
    from oshie.jsonl import write_jsonl

    path = tmp_path / "n.jsonl"
    write_jsonl(path, [{"a": math.nan, "b": [math.inf, 1.5], "c": {"d": -math.inf}}, {"ok": 1}])
    lines = path.read_text("utf-8").splitlines()
    assert [json.loads(line, parse_constant=lambda c: pytest.fail(c)) for line in lines] == [
        {"a": None, "b": [None, 1.5], "c": {"d": None}}, {"ok": 1}]
    assert "3 NaN/Infinity values written as null" in capsys.readouterr().err


def test_the_jsonl_writer_escapes_lone_surrogates_and_writes_dates(tmp_path: Path) -> None:
    from oshie.jsonl import JsonlWriter

    path = tmp_path / "s.jsonl"
    with JsonlWriter(path) as out:
        out.write({"raw": "bad \udc82 byte", "when": dt.date(2024, 1, 2)})
    assert json.loads(path.read_text("utf-8")) == {"raw": "bad \udc82 byte", "when": "2024-01-02"}
