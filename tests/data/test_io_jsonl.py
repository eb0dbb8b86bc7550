"""JSONL in the native format and auto-detection: the path every stage reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oshie.data import iter_records, load_records, write_records
from oshie.errors import DataError
from oshie.records import Conversation, Message, PreferencePair, Provenance


def _write_lines(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_native_roundtrip_keeps_everything(tmp_path: Path) -> None:
    conv = Conversation(
        id="q1", system="あなたは親切なアシスタントです。",
        messages=[Message(role="user", content="富士山の高さは？"),
                  Message(role="assistant", content="3776メートルです。"),
                  Message(role="user", content="一番近い県は？"),
                  Message(role="assistant", content="静岡県と山梨県です。")],
        metadata=Provenance(source="手作業", answer_writer="作成者A", category="地理"),
    )
    out = tmp_path / "out.jsonl"
    assert write_records(out, [conv]) == 1
    text = out.read_text(encoding="utf-8")
    assert "富士山" in text and "\\u" not in text  # Japanese stays readable
    assert load_records(out) == [conv]


@pytest.mark.parametrize(
    ("row", "fmt"),
    [
        ({"messages": [{"role": "user", "content": "質問"}, {"role": "assistant", "content": "答え"}]}, "messages"),
        ({"conversations": [{"from": "human", "value": "質問"}, {"from": "gpt", "value": "答え"}]}, "sharegpt"),
        ({"instruction": "質問", "input": "", "output": "答え"}, "alpaca"),
        ({"ID": "ichikara-1", "text": "質問", "output": "答え"}, "ichikara"),
        ({"prompt": "質問", "completion": "答え"}, "prompt_completion"),
        ({"prompt": "質問", "chosen": "良い答え", "rejected": "悪い答え"}, "preference"),
    ],
)
def test_detects_format_from_fields(tmp_path: Path, row: dict, fmt: str) -> None:
    stream = iter_records(_write_lines(tmp_path / "in.jsonl", [row]))
    assert stream.format is not None and stream.format.name == fmt
    assert stream.detected and stream.encoding == "UTF-8"
    [result] = list(stream)
    assert result.ok, result.error
    rec = result.record
    if fmt == "preference":
        assert isinstance(rec, PreferencePair) and rec.chosen_text == "良い答え"
    else:
        assert isinstance(rec, Conversation) and rec.instruction == "質問" and rec.answer == "答え"


def test_ids_are_stable_and_extras_kept(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "set.jsonl", [{"instruction": "a", "output": "b", "難易度": "高"}])
    first, second = load_records(path), load_records(path)
    assert first[0].id == second[0].id == "set-1"
    assert first[0].metadata.extra == {"難易度": "高"}
    out = tmp_path / "back.jsonl"
    write_records(out, first, "alpaca")
    assert json.loads(out.read_text(encoding="utf-8"))["難易度"] == "高"


def test_load_records_raises_on_first_bad_record(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "bad.jsonl", [
        {"instruction": "a", "output": "b"},
        {"instruction": "c", "output": ""},
    ])
    with pytest.raises(DataError) as info:
        load_records(path)
    assert info.value.line == 2 and info.value.field == "output"
    assert "bad.jsonl, line 2, field 'output'" in str(info.value)


@pytest.mark.parametrize(
    ("name", "text", "file_type"),
    [
        ("array.jsonl", '[{"instruction": "a", "output": "b"},\n {"instruction": "c", "output": "d"}]\n', "json"),
        ("lines.json", '{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": "d"}\n', "jsonl"),
    ],
)
def test_misnamed_json_files_are_read_by_content(tmp_path: Path, name: str, text: str, file_type: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    stream = iter_records(path, "auto")
    assert stream.file_type == file_type and stream.source.notes
    assert [r.record.answer for r in stream] == ["b", "d"]


def test_openai_text_content_parts(tmp_path: Path) -> None:
    parts = [{"type": "text", "text": "前半、"}, {"type": "text", "text": "後半。"}]
    path = _write_lines(tmp_path / "parts.jsonl", [
        {"messages": [{"role": "user", "content": parts}, {"role": "assistant", "content": "はい"}]},
        {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
                      {"role": "assistant", "content": "はい"}]},
    ])
    good, bad = list(iter_records(path))
    assert good.record.instruction == "前半、後半。"
    assert bad.error.field == "messages[0].content[0]" and "text content" in bad.error.message
