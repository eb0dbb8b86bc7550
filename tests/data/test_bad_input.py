"""Malformed input: every problem names file, line (or row) and field, and no record is lost.

Each case writes a file with good records around one bad one, then checks
  * the per-record error of `iter_records` (line, field, reason, rendered text),
  * `oshie data validate --quarantine`: exit 1, the quarantine entry keeps raw text and reason,
  * `oshie data convert`: records in = records written + records quarantined.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.support.cli import run_cli as run
from tests.support.workbook import write_workbook

from oshie.data import iter_records

GOOD = {"instruction": "日本の首都はどこですか？", "output": "東京です。"}
GOOD_MSG = {"messages": [{"role": "user", "content": "こんにちは"}, {"role": "assistant", "content": "こんにちは！"}]}
GOOD_PREF = {"prompt": "挨拶して", "chosen": "こんにちは。", "rejected": "うるさい。"}


def msgs(*pairs: tuple[str, str]) -> dict:
    return {"messages": [{"role": r, "content": c} for r, c in pairs]}


def jsonl(*rows: object) -> Callable[[Path], None]:
    """Rows are dicts (dumped as JSON) or raw bytes/str lines, written as they are."""
    def make(path: Path) -> None:
        out = bytearray()
        for row in rows:
            if isinstance(row, bytes):
                out += row
            elif isinstance(row, str):
                out += row.encode("utf-8")
            else:
                out += json.dumps(row, ensure_ascii=False).encode("utf-8")
            out += b"\n"
        path.write_bytes(bytes(out))
    return make


def delimited(rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",",
              patch: tuple[bytes, bytes] | None = None) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        buf = io.StringIO()
        csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
        data = buf.getvalue().encode(encoding)
        if patch:
            data = data.replace(*patch)
        path.write_bytes(data)
    return make


def xlsx(rows: list[list[object]]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        write_workbook(path, rows, title="回答")
    return make


def json_array(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text, encoding="utf-8")


@dataclass
class Case:
    id: str
    filename: str
    make: Callable[[Path], None]
    line: int
    field: str | None
    reason: str
    records_in: int
    args: list[str] = field(default_factory=list)
    convert_args: list[str] = field(default_factory=list)
    label: str = "line"


ALPACA_HEADER = ["instruction", "input", "output"]
CASES = [
    Case("broken-json", "a.jsonl", jsonl(GOOD, '{"instruction": "質問", "output": "答え"', GOOD), 2, None,
         "broken JSON", 3),
    Case("bad-quotes", "a.jsonl", jsonl(GOOD, GOOD, "{'instruction': '質問', 'output': '答え'}"), 3, None,
         "broken JSON", 3),
    Case("not-an-object", "a.jsonl", jsonl(GOOD, '["質問", "答え"]'), 2, None, "expected a JSON object", 2),
    Case("missing-field", "a.jsonl", jsonl(GOOD, {"instruction": "質問"}, GOOD), 2, "output", "missing", 3),
    Case("empty-field", "a.jsonl", jsonl(GOOD, {"instruction": "", "output": "答え"}), 2, "instruction",
         "empty", 2),
    Case("blank-field", "a.jsonl", jsonl({"instruction": "質問", "output": "　 \n"}, GOOD), 1, "output",
         "empty", 2),
    Case("null-field", "a.jsonl", jsonl(GOOD, GOOD, {"instruction": "質問", "output": None}), 3, "output",
         "null", 3),
    Case("number-not-text", "a.jsonl", jsonl(GOOD, {"instruction": "1+1は？", "output": 2}), 2, "output",
         "expected text, got a number", 2),
    Case("list-not-text", "a.jsonl", jsonl({"instruction": ["質問"], "output": "答え"}, GOOD), 1, "instruction",
         "expected text, got a list", 2),
    Case("messages-not-list", "m.jsonl", jsonl(GOOD_MSG, {"messages": "こんにちは"}), 2, "messages",
         "expected a list of messages", 2),
    Case("message-not-object", "m.jsonl", jsonl(GOOD_MSG, {"messages": [{"role": "user", "content": "a"}, "b"]}),
         2, "messages[1]", "expected a message object", 2),
    Case("unknown-role", "m.jsonl", jsonl(GOOD_MSG, msgs(("user", "質問"), ("bot", "答え"))), 2,
         "messages[1].role", "unknown role 'bot'", 2),
    Case("missing-role", "m.jsonl", jsonl(GOOD_MSG, {"messages": [{"content": "質問"}]}), 2,
         "messages[0].role", "role is missing", 2),
    Case("missing-content", "m.jsonl", jsonl(GOOD_MSG, {"messages": [{"role": "user", "content": "質問"},
                                                                     {"role": "assistant"}]}),
         2, "messages[1].content", "missing", 2),
    Case("ends-with-user", "m.jsonl",
         jsonl(GOOD_MSG, msgs(("user", "質問"), ("assistant", "答え"), ("user", "続きは？")), GOOD_MSG), 2,
         "messages[2]", "does not end with an assistant", 3),
    Case("roles-do-not-alternate", "m.jsonl", jsonl(msgs(("user", "質問"), ("user", "もう一つ"), ("assistant", "答え")),
                                                    GOOD_MSG), 1, "messages[1].role", "roles must alternate", 2),
    Case("system-in-the-middle", "m.jsonl",
         jsonl(GOOD_MSG, msgs(("user", "質問"), ("assistant", "答え"), ("system", "丁寧に"))), 2,
         "messages[2].role", "system message may only come first", 2),
    Case("lone-surrogate", "m.jsonl", jsonl(GOOD_MSG, '{"messages": [{"role": "user", "content": "壊れた\\ud800文字"}, '
                                                     '{"role": "assistant", "content": "答え"}]}'),
         2, "messages[0].content", "lone surrogate U+D800", 2),
    Case("control-character", "a.jsonl", jsonl(GOOD, {"instruction": "質問", "output": "答え\u0007です"}), 2,
         "output", "control character U+0007", 2),
    Case("undecodable-bytes", "a.jsonl",
         jsonl(GOOD, b'{"instruction": "\xe8\xb3\xaa\xff\xfe", "output": "\xe7\xad\x94"}', GOOD), 2, None,
         "undecodable bytes FF at byte 20", 3),
    Case("huge-line", "a.jsonl",
         jsonl(GOOD, '{"instruction": "長い", "output": "' + "あ" * (50 * 1024 * 1024 // 3) + '"}', GOOD), 2, None,
         "line is 50.0 MiB, over the 16 MiB limit", 3),
    Case("sharegpt-unknown-from", "s.jsonl",
         jsonl({"conversations": [{"from": "human", "value": "質問"}, {"from": "robot", "value": "答え"}]},
               {"conversations": [{"from": "human", "value": "質問"}, {"from": "gpt", "value": "答え"}]}), 1,
         "conversations[1].from", "unknown role 'robot'", 2),
    Case("metadata-not-object", "m.jsonl", jsonl(GOOD_MSG, {**GOOD_MSG, "metadata": "出典なし"}), 2, "metadata",
         "not valid JSON text", 2),
    Case("metadata-wrong-type", "m.jsonl", jsonl({**GOOD_MSG, "metadata": {"license_restricted": "たぶん"}}, GOOD_MSG),
         1, "metadata.license_restricted", "boolean", 2),
    Case("id-is-object", "m.jsonl", jsonl(GOOD_MSG, {**GOOD_MSG, "id": {"n": 1}}), 2, "id", "expected text or a number", 2),
    Case("preference-empty-chosen", "p.jsonl", jsonl(GOOD_PREF, {**GOOD_PREF, "chosen": ""}), 2, "chosen", "empty", 2,
         convert_args=["--to", "preference"]),
    Case("preference-score-not-number", "p.jsonl", jsonl({**GOOD_PREF, "chosen_score": "高い"}, GOOD_PREF), 1,
         "chosen_score", "expected a number", 2, convert_args=["--to", "preference"]),
    Case("prompt-ends-with-assistant", "pc.jsonl",
         jsonl({"prompt": "質問", "completion": "答え"},
               {"prompt": [{"role": "user", "content": "質問"}, {"role": "assistant", "content": "答え"}],
                "completion": "追加"}), 2, "prompt[1].role", "must end with a user message", 2),
    Case("json-array-element", "a.json",
         json_array('[\n  {"instruction": "質問", "output": "答え"},\n  "文字列だけ",\n'
                    '  {"instruction": "質問2", "output": "答え2"}\n]\n'), 3, None, "expected a record object", 3),
    Case("csv-extra-cells", "a.csv", delimited([ALPACA_HEADER, ["質問", "", "答え"], ["質問2", "", "答え2", "はみ出し"]]),
         3, None, "row has 4 cells but the header has 3 columns", 2),
    Case("csv-empty-cell", "a.csv", delimited([ALPACA_HEADER, ["質問", "", ""], ["質問2", "", "答え2"]]), 2,
         "output", "required field is empty", 2),
    Case("csv-multiline-then-bad", "a.csv",
         delimited([ALPACA_HEADER, ["一行目\n二行目\n三行目", "", "答え"], ["", "", "答え2"]]), 5, "instruction",
         "required field is empty", 2),
    Case("cp932-csv-bad-byte", "sjis.csv",
         delimited([ALPACA_HEADER, ["質問", "", "答え"], ["壊れた", "", "文字"]], "cp932",
                   patch=("文字".encode("cp932"), b"\x95\xb6\x82")),  # a lead byte with no trail byte
         3, "output", "undecodable byte 0x82", 2),
    Case("xlsx-empty-cell", "book.xlsx", xlsx([ALPACA_HEADER, ["質問", None, "答え"], ["質問2", None, None],
                                               ["質問3", None, "答え3"]]), 3, "output", "required field is empty", 3, label="row"),
    Case("xlsx-messages-not-json", "book.xlsx",
         xlsx([["id", "messages"], ["r1", json.dumps(GOOD_MSG["messages"], ensure_ascii=False)],
               ["r2", "[{壊れたJSON"]]), 3, "messages", "expected a list of messages", 2, label="row"),
    Case("ichikara-meta-bad-json", "ichikara.csv",
         delimited([["ID", "text", "output", "meta"], ["1", "質問", "答え", "{壊れた"], ["2", "質問", "答え", "{}"]]),
         2, "meta", "not valid JSON text", 2),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_record_is_named_and_quarantined(tmp_path: Path, case: Case) -> None:
    src = tmp_path / case.filename
    case.make(src)

    # 1. the API names line and field
    results = list(iter_records(src))
    assert len(results) == case.records_in
    bad = [r for r in results if not r.ok]
    assert [r.line for r in bad] == [case.line]
    err = bad[0].error
    assert err is not None and err.line == case.line and err.field == case.field
    assert case.reason in err.message
    text = err.render()
    assert f"{case.label} {case.line}" in text and case.filename in text
    if case.field:
        assert f"field '{case.field}'" in text
    assert err.hint, "every error says what to do"

    # 2. validate: exit 1, quarantine keeps the raw text and the reason
    q = tmp_path / "q.jsonl"
    code, out, _ = run(["data", "validate", str(src), "--quarantine", str(q), "--json", *case.args])
    assert code == 1
    summary = json.loads(out)
    assert (summary["records_in"], summary["accepted"], summary["quarantined"]) == (case.records_in, case.records_in - 1, 1)
    [entry] = [json.loads(line) for line in q.read_text(encoding="utf-8").splitlines()]
    assert (entry["line"], entry["field"]) == (case.line, case.field)
    assert case.reason in entry["reason"] and entry["raw"] and entry["stage"] == "read"

    # 3. convert: records in = written + quarantined
    dst, q2 = tmp_path / "out.jsonl", tmp_path / "q2.jsonl"
    code, out, _ = run(["data", "convert", str(src), str(dst), "--quarantine", str(q2), "--json", *case.args,
                          *case.convert_args])
    assert code == 0
    summary = json.loads(out)
    written = len(dst.read_text(encoding="utf-8").splitlines())
    quarantined = len(q2.read_text(encoding="utf-8").splitlines())
    assert summary["records_in"] == case.records_in == written + quarantined
    assert (summary["written"], summary["quarantined"]) == (written, quarantined) == (case.records_in - 1, 1)


def test_strict_stops_at_first_problem_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    jsonl(GOOD, {"instruction": "質問", "output": ""}, GOOD)(src)
    dst = tmp_path / "out.jsonl"
    code, _, error = run(["data", "convert", str(src), str(dst), "--strict"])
    assert code == 1
    assert "a.jsonl, line 2, field 'output'" in error and "--strict" in error
    assert not dst.exists() and not (tmp_path / "out.jsonl.quarantine.jsonl").exists()
    code, _, error = run(["data", "validate", str(src), "--strict"])
    assert code == 1 and "line 2" in error


def test_convert_quarantines_records_the_target_format_cannot_hold(tmp_path: Path) -> None:
    src = tmp_path / "chat.jsonl"
    jsonl(GOOD_MSG, msgs(("user", "1"), ("assistant", "2"), ("user", "3"), ("assistant", "4")))(src)
    dst = tmp_path / "alpaca.jsonl"
    code, out, _ = run(["data", "convert", str(src), str(dst), "--to", "alpaca", "--json"])
    assert code == 0
    summary = json.loads(out)
    assert (summary["records_in"], summary["written"], summary["quarantined"]) == (2, 1, 1)
    [entry] = [json.loads(x) for x in Path(summary["quarantine"]).read_text(encoding="utf-8").splitlines()]
    assert entry["stage"] == "write" and entry["line"] == 2 and "4 messages" in entry["reason"]


# ------------------------------------------------------------ problems that spoil the whole file

FILE_CASES = [
    ("empty-file", "a.jsonl", b"", "empty", None),
    ("blank-lines-only", "a.jsonl", b"\n  \n\r\n", "empty", None),
    ("empty-csv", "a.csv", b"", "empty", None),
    ("json-array-broken", "a.json", b'[\n {"instruction": "a", "output": "b"},\n {"instruction": "c"\n]',
     "broken JSON", 4),
    ("json-object-not-array", "a.json", b'{"instruction": "a", "output": "b"}', "expected a JSON array", 1),
    ("csv-duplicate-header", "a.csv", b"instruction,output,output\r\nq,a,b\r\n", "twice", 1),
    ("csv-unclosed-quote", "a.csv", b'instruction,output\r\nq,a\r\n"q2,a2\r\n', "unclosed quote", 3),
    ("unknown-fields", "a.jsonl", '{"質問": "a", "回答": "b"}\n'.encode(), "cannot tell the format", None),
    ("xlsx-not-a-workbook", "a.xlsx", b"PK\x03\x04 not really a zip", "not a readable .xlsx", None),
]


@pytest.mark.parametrize(("name", "filename", "data", "reason", "line"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_file_level_problems_are_fatal_and_write_nothing(tmp_path: Path, name: str, filename: str, data: bytes,
                                                         reason: str, line: int | None) -> None:
    src = tmp_path / filename
    src.write_bytes(data)
    dst = tmp_path / "out.jsonl"
    for args in (["data", "validate", str(src)], ["data", "convert", str(src), str(dst)]):
        code, _, error = run(args)
        assert code == 1, error
        assert reason in error and filename in error
        if line is not None:
            assert f"line {line}" in error
    assert not dst.exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    jsonl(GOOD)(src)
    code, _, error = run(["data", "convert", str(src), str(tmp_path / "o.jsonl"), "--to", "yaml"])
    assert code == 2 and "unknown format 'yaml'" in error
    code, _, error = run(["data", "validate", str(tmp_path / "missing.jsonl")])
    assert code == 2 and "no such file" in error
