"""Round trips: every format pair, every file type, files written the way users' tools write them."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from itertools import product
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.workbook import write_workbook

from oshie.data import iter_records, load_records, write_records
from oshie.data.formats import FORMATS
from oshie.records import Conversation, Message

from .strategies import conversations, records_for, unique_ids

CONVERSATION_FORMATS = [name for name, f in FORMATS.items() if f.kind == "conversation"]
FILE_SUFFIXES = [".jsonl", ".json", ".csv", ".tsv", ".xlsx", ".parquet"]
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(("first", "second"), list(product(CONVERSATION_FORMATS, repeat=2)))
def test_every_format_pair_roundtrips(first: str, second: str) -> None:
    @SETTINGS
    @given(st.lists(records_for(first, second), min_size=1, max_size=4).map(unique_ids))
    def check(records: list[Conversation]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            a, b = Path(tmp) / "a.jsonl", Path(tmp) / "b.jsonl"
            write_records(a, records, first)
            via_first = load_records(a, first)
            write_records(b, via_first, second)
            stream = iter_records(b)  # auto-detected this time
            assert stream.format is not None and stream.format.name == second
            assert [r.record for r in stream] == records
            assert "\\u" not in b.read_text(encoding="utf-8")

    check()


@pytest.mark.parametrize(("suffix", "fmt"), list(product(FILE_SUFFIXES, [*CONVERSATION_FORMATS, "preference"])))
def test_every_file_type_roundtrips(suffix: str, fmt: str) -> None:
    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(records_for(fmt), min_size=1, max_size=4).map(unique_ids))
    def check(records: list) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"data{suffix}"
            assert write_records(path, records, fmt) == len(records)
            stream = iter_records(path)
            assert stream.format is not None and stream.format.name == fmt
            results = list(stream)
            assert [r.error for r in results] == [None] * len(records)
            assert [r.record for r in results] == records

    check()


def test_hf_save_to_disk_roundtrip(tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    records = [
        Conversation(id=f"r{i}", messages=[Message(role="user", content=f"質問{i}です。"),
                                           Message(role="assistant", content=f"回答{i}です。")])
        for i in range(3)
    ]
    out = tmp_path / "ds"
    write_records(out, records, "sharegpt", file_type="hf")
    assert (out / "state.json").exists()
    stream = iter_records(out)
    assert (stream.file_type, stream.format.name) == ("hf", "sharegpt")
    assert [r.record for r in stream] == records


def _rows_to_csv(rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


ICHIKARA_ROWS = [
    ["ID", "text", "output", "meta"],
    ["ichikara-1", "日本で一番高い山は？", "富士山です。標高は3776メートルです。", '{"category": "地理"}'],
    ["ichikara-2", "「ありがとう」を\n丁寧に言うと？", "「ありがとうございます」です。", ""],
    ["ichikara-3", "髙橋さんと﨑山さん、①②の読み方は？", "たかはし、さきやま、いち、に。", ""],  # CP932-only chars
]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("cp932", "CP932 (Shift_JIS)"), ("utf-8-sig", "UTF-8 with BOM"), ("utf-8", "UTF-8"), ("utf-16", "UTF-16")],
)
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "ichikara.csv"
    path.write_bytes(_rows_to_csv(ICHIKARA_ROWS).encode(encoding))  # as Excel or a script would save it
    stream = iter_records(path)
    assert (stream.encoding, stream.format.name) == (expected, "ichikara")
    records = [r.record for r in stream]
    assert [r.id for r in records] == ["ichikara-1", "ichikara-2", "ichikara-3"]
    assert records[1].instruction == "「ありがとう」を\n丁寧に言うと？"
    assert records[2].instruction.startswith("髙橋さんと﨑山さん、①②")
    assert records[0].metadata.category == "地理"


def test_cp932_tsv_written_by_python_encoder_roundtrips_through_cli_encoding(tmp_path: Path) -> None:
    path = tmp_path / "alpaca.tsv"
    rows = [["instruction", "input", "output"], ["次の文を要約してください。", "今日は晴れです。", "晴れ。"]]
    path.write_bytes(_rows_to_csv(rows, "\t").encode("cp932"))
    [rec] = load_records(path)
    assert rec.instruction == "次の文を要約してください。\n\n今日は晴れです。"
    out = tmp_path / "back.tsv"
    write_records(out, [rec], "alpaca", encoding="cp932")
    assert out.read_bytes().decode("cp932").splitlines()[1].split("\t") == ["alpaca-2", *rows[1]]


def test_crlf_jsonl_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "win.jsonl"
    lines = [json.dumps({"instruction": f"質問{i}", "output": f"答え{i}"}, ensure_ascii=False) for i in range(3)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    stream = iter_records(path)
    assert stream.encoding == "UTF-8 with BOM"
    records = [r.record for r in stream]
    assert [r.answer for r in records] == ["答え0", "答え1", "答え2"]
    assert [r.id for r in records] == ["win-1", "win-2", "win-3"]


def test_xlsx_written_by_an_annotation_team(tmp_path: Path) -> None:
    """A workbook as people make it in Excel: numeric ids, line breaks, '=' text, blank rows."""
    write_workbook(tmp_path / "team.xlsx", [
        ["ID", "text", "output", "担当者"],
        [101, "次の計算をしてください。\n1+1", "2です。", "田中"],
        [None, None, None, None],  # a blank row between blocks
        [102, "敬語に直してください：行く", "いらっしゃる／参る", "佐藤"],
        [103, "数字だけで答えて：1+2", 3, "鈴木"],  # Excel keeps 3 as a number
    ], title="指示データ")
    stream = iter_records(tmp_path / "team.xlsx")
    assert (stream.file_type, stream.format.name) == ("xlsx", "ichikara")
    results = list(stream)
    assert [r.line for r in results] == [2, 4, 5]  # spreadsheet rows
    records = [r.record for r in results]
    assert [r.id for r in records] == ["101", "102", "103"]
    assert records[0].instruction == "次の計算をしてください。\n1+1"
    assert records[2].answer == "3"
    assert records[1].metadata.extra == {"担当者": "佐藤"}
    # and back out to Excel: a formula-looking answer must stay text
    records[0] = records[0].model_copy(update={"messages": [records[0].messages[0],
                                                            Message(role="assistant", content="=1+1 ではなく 2")]})
    write_records(tmp_path / "out.xlsx", records, "ichikara")
    import openpyxl

    ws2 = openpyxl.load_workbook(tmp_path / "out.xlsx").worksheets[0]
    assert ws2.cell(row=2, column=3).value == "=1+1 ではなく 2"
    assert ws2.cell(row=2, column=3).data_type == "s"
    assert load_records(tmp_path / "out.xlsx") == records


@SETTINGS
@given(st.lists(conversations(), min_size=1, max_size=5).map(unique_ids))
def test_convert_cli_roundtrip_through_xlsx(records: list[Conversation]) -> None:
    from typer.testing import CliRunner

    from oshie.cli.app import app

    with tempfile.TemporaryDirectory() as tmp:
        src, mid, back = Path(tmp) / "in.jsonl", Path(tmp) / "mid.xlsx", Path(tmp) / "back.jsonl"
        write_records(src, records, "messages")
        for a, b, fmt in ((src, mid, "sharegpt"), (mid, back, "messages")):
            result = CliRunner().invoke(app, ["-q", "data", "convert", str(a), str(b), "--to", fmt])
            assert result.exit_code == 0, result.output
        assert load_records(back) == records


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_cp932_json_files(tmp_path: Path, suffix: str) -> None:
    rows = [{"instruction": "髙橋さんの質問①", "output": "答え"}, {"instruction": "二つ目", "output": "はい"}]
    if suffix == ".jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in rows)
    else:
        text = json.dumps(rows, ensure_ascii=False, indent=2)
    path = tmp_path / f"sjis{suffix}"
    path.write_bytes(text.encode("cp932"))
    stream = iter_records(path)
    assert stream.encoding == "CP932 (Shift_JIS)"
    results = list(stream)
    assert [r.record.instruction for r in results] == ["髙橋さんの質問①", "二つ目"]
    assert [r.line for r in results] == ([1, 2] if suffix == ".jsonl" else [2, 6])


def test_xlsx_data_sheet_after_a_guide_sheet(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    guide = wb.active
    guide.title = "記入方法"
    guide.append(["このシートの説明"])
    guide.append(["instruction に質問、output に回答を書いてください。"])
    data = wb.create_sheet("データ")
    data.append(["instruction", "input", "output"])
    data.append(["挨拶をしてください。", None, "こんにちは。"])
    wb.save(tmp_path / "book.xlsx")
    stream = iter_records(tmp_path / "book.xlsx")
    assert stream.source.display.endswith("(sheet 'データ')")
    assert stream.source.notes == ["read sheet 'データ' of 2"]
    [result] = list(stream)
    assert result.line == 2 and result.record.answer == "こんにちは。"
