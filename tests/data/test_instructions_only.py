"""Instructions without answers (synthesis inputs) through the shared data layer.

`require_answer=False` turns chats ending with the user, answer fields that are missing
or blank, and `.txt` files (one instruction a line) into user-only `Conversation`s;
every other problem is still an error naming file, line and field, and the default
(`require_answer=True`) still rejects them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from tests.support.cli import run_cli as run

from oshie.data import iter_records, load_records, write_records
from oshie.errors import DataError, UsageError
from oshie.records import Conversation, Message, PreferencePair, Provenance
from oshie.synth.api import load_inputs

ANSWERED = {"instruction": "日本の首都はどこですか？", "output": "東京です。"}


def _jsonl(path: Path, rows: list[object]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _roles(rec: object) -> list[str]:
    assert isinstance(rec, Conversation)
    return [m.role for m in rec.messages]


# ---------------------------------------------------------------- each format, answer missing

UNANSWERED = [
    # (case id, row, detected format, user text of the last turn, roles, field a strict read blames)
    ("messages", {"id": "m1", "messages": [{"role": "user", "content": "自己紹介して"}]},
     "messages", "自己紹介して", ["user"], "messages[0]"),
    ("messages-system-multiturn",
     {"messages": [{"role": "system", "content": "丁寧に"}, {"role": "user", "content": "こんにちは"},
                   {"role": "assistant", "content": "こんにちは！"}, {"role": "user", "content": "天気は？"}]},
     "messages", "天気は？", ["user", "assistant", "user"], "messages[3]"),
    ("sharegpt", {"conversations": [{"from": "human", "value": "俳句を詠んで"}]},
     "sharegpt", "俳句を詠んで", ["user"], "conversations[0]"),
    ("alpaca-no-output", {"instruction": "要約して", "input": "長い文章。"},
     "alpaca", "要約して\n\n長い文章。", ["user"], "output"),
    ("alpaca-empty-output", {"instruction": "要約して", "input": "", "output": ""},
     "alpaca", "要約して", ["user"], "output"),
    ("alpaca-blank-output", {"instruction": "要約して", "output": "  \n"},
     "alpaca", "要約して", ["user"], "output"),
    ("ichikara-no-output", {"ID": "ichikara-7", "text": "敬語で書き直して"},
     "ichikara", "敬語で書き直して", ["user"], "output"),
    ("prompt-only", {"prompt": "詩を書いて"},
     "prompt_completion", "詩を書いて", ["user"], "completion"),
    ("prompt-empty-completion", {"prompt": "詩を書いて", "completion": ""},
     "prompt_completion", "詩を書いて", ["user"], "completion"),
    ("prompt-messages-no-completion",
     {"prompt": [{"role": "user", "content": "一"}, {"role": "assistant", "content": "二"},
                 {"role": "user", "content": "三"}], "completion": []},
     "prompt_completion", "三", ["user", "assistant", "user"], "completion"),
]


@pytest.mark.parametrize(("row", "fmt", "text", "roles", "field"), [c[1:] for c in UNANSWERED],
                         ids=[c[0] for c in UNANSWERED])
def test_each_format_without_answer(tmp_path: Path, row: dict, fmt: str, text: str, roles: list[str],
                                    field: str) -> None:
    path = _jsonl(tmp_path / "in.jsonl", [ANSWERED | {"id": "first"}, row] if fmt == "alpaca" else [row])
    line = 2 if fmt == "alpaca" else 1

    # answers optional: detected, read as a user-only (or user-ending) conversation
    stream = iter_records(path, require_answer=False)
    assert stream.format is not None and stream.format.name == fmt
    results = list(stream)
    assert all(r.ok for r in results), [r.error for r in results]
    rec = results[-1].record
    assert _roles(rec) == roles and rec.messages[-1].content == text  # type: ignore[union-attr]
    assert rec.id == row.get("id", row.get("ID", f"in-{line}"))  # type: ignore[union-attr]

    # default: the same row is rejected, naming line and field, and saying how to read it
    with pytest.raises(DataError) as info:
        load_records(path, fmt)
    err = info.value
    assert (err.line, err.field) == (line, field)
    assert err.hint and "--allow-unanswered" in err.hint


def test_answered_records_read_the_same_either_way(tmp_path: Path) -> None:
    rows = [ANSWERED, {"instruction": "翻訳して", "input": "Hello", "output": "こんにちは", "category": "翻訳"}]
    path = _jsonl(tmp_path / "a.jsonl", rows)
    assert load_records(path, require_answer=False) == load_records(path)
    pref = _jsonl(tmp_path / "p.jsonl", [{"prompt": "挨拶して", "chosen": "こんにちは。", "rejected": "やあ"}])
    [pair] = load_records(pref, require_answer=False)
    assert isinstance(pair, PreferencePair) and pair.chosen_text == "こんにちは。"


def test_csv_instruction_column_only_and_blank_output_cells(tmp_path: Path) -> None:
    only = tmp_path / "only.csv"
    with open(only, "w", encoding="utf-8-sig", newline="") as fh:  # Excel's UTF-8 with BOM
        csv.writer(fh).writerows([["instruction", "input"], ["箇条書きにして", "りんご、みかん"], ["短くして", ""]])
    stream = iter_records(only, require_answer=False)
    assert stream.format is not None and stream.format.name == "alpaca" and stream.encoding == "UTF-8 with BOM"
    recs = [r.record for r in stream]
    assert [r.messages[0].content for r in recs] == ["箇条書きにして\n\nりんご、みかん", "短くして"]  # type: ignore[union-attr]
    assert all(_roles(r) == ["user"] for r in recs)

    mixed = tmp_path / "mixed.csv"
    with open(mixed, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["instruction", "output"], ["質問1", "答え1"], ["質問2", ""]])
    recs = load_records(mixed, require_answer=False)
    assert [_roles(r) for r in recs] == [["user", "assistant"], ["user"]]
    with pytest.raises(DataError) as info:
        load_records(mixed)
    assert (info.value.line, info.value.field, info.value.line_label) == (3, "output", "line")


# ---------------------------------------------------------------- .txt files

def test_txt_utf8_one_instruction_per_line(tmp_path: Path) -> None:
    path = tmp_path / "seeds.txt"
    path.write_bytes("日本の首都は？\r\n\r\n  富士山について説明してください。  \r\n\n敬語で言い換えて\n".encode())
    stream = iter_records(path, require_answer=False)
    assert (stream.file_type, stream.encoding) == ("txt", "UTF-8")
    recs = [r.record for r in stream]
    assert [(r.id, r.instruction) for r in recs] == [  # type: ignore[union-attr]
        ("seeds-1", "日本の首都は？"), ("seeds-3", "富士山について説明してください。"), ("seeds-5", "敬語で言い換えて")]
    assert all(_roles(r) == ["user"] for r in recs)


@pytest.mark.parametrize(("encoding", "name"), [("cp932", "CP932 (Shift_JIS)"), ("utf-8-sig", "UTF-8 with BOM")])
def test_txt_in_cp932_and_with_bom(tmp_path: Path, encoding: str, name: str) -> None:
    lines = ["東京の名所を三つ挙げてください。", "「ありがとう」を丁寧に言うと？"]
    path = tmp_path / "指示.txt"
    path.write_bytes("\r\n".join(lines).encode(encoding))
    stream = iter_records(path, require_answer=False)
    assert stream.encoding == name
    assert [r.record.instruction for r in stream] == lines  # type: ignore[union-attr]


def test_txt_bad_lines_are_named_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "seeds.txt"
    path.write_bytes("よい指示\n制御\x07文字\n".encode() + b"\xff\xfe broken\n" + "最後の指示\n".encode())
    results = list(iter_records(path, require_answer=False))
    assert [r.line for r in results] == [1, 2, 3, 4]
    assert [r.ok for r in results] == [True, False, False, True]
    control, undecodable = results[1].error, results[2].error
    assert control is not None and (control.line, control.field) == (2, "prompt")
    assert "U+0007" in control.message and "seeds.txt" in control.render()
    assert undecodable is not None and undecodable.line == 3 and "undecodable" in undecodable.message


def test_txt_needs_require_answer_false(tmp_path: Path) -> None:
    path = tmp_path / "seeds.txt"
    path.write_text("指示です\n", encoding="utf-8")
    with pytest.raises(DataError, match="instructions without answers") as info:
        load_records(path)
    assert info.value.hint and "--allow-unanswered" in info.value.hint
    with pytest.raises(UsageError, match="no 'alpaca' format"):
        load_records(path, "alpaca", require_answer=False)
    with pytest.raises(UsageError, match="input only"):
        write_records(tmp_path / "out.txt", load_records(path, require_answer=False))


# ---------------------------------------------------------------- still errors

MSG_OK = {"messages": [{"role": "user", "content": "よい行"}]}
ALPACA_OK = {"instruction": "よい行"}
STILL_BAD = [
    # (case id, good row around it (sets the format), bad row as written, field, words of the reason)
    ("broken-json", ALPACA_OK, '{"instruction": "途中で切れた', None, "broken JSON"),
    ("unknown-role", MSG_OK, {"messages": [{"role": "robot", "content": "やあ"}]}, "messages[0].role", "unknown role"),
    ("starts-with-assistant", MSG_OK, {"messages": [{"role": "assistant", "content": "はい"}]}, "messages[0].role",
     "expected user"),
    ("user-twice", MSG_OK, {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
     "messages[1].role", "alternate"),
    ("no-messages", MSG_OK, {"messages": []}, "messages", "no user/assistant"),
    ("output-wrong-type", ALPACA_OK, {"instruction": "質問", "output": 5}, "output", "expected text"),
    ("instruction-missing", ALPACA_OK, {"input": "x", "output": ""}, "instruction", "missing"),
    ("control-char", ALPACA_OK, {"instruction": "質\x1b問"}, "instruction", "U+001B"),
    ("prompt-wrong-type", {"prompt": "よい行"}, {"prompt": ["文字列のリスト"]}, "prompt[0]", "message object"),
]


@pytest.mark.parametrize(("good", "row", "field", "reason"), [c[1:] for c in STILL_BAD],
                         ids=[c[0] for c in STILL_BAD])
def test_other_problems_are_still_errors(tmp_path: Path, good: dict, row: object, field: str | None,
                                         reason: str) -> None:
    path = _jsonl(tmp_path / "bad.jsonl", [good, row, good])
    results = list(iter_records(path, require_answer=False))
    assert [r.ok for r in results] == [True, False, True]
    err = results[1].error
    assert err is not None and (err.line, err.field) == (2, field)
    assert reason in err.message and "bad.jsonl" in err.render() and err.hint
    with pytest.raises(DataError) as info:
        load_records(path, require_answer=False)
    assert info.value.line == 2


# ---------------------------------------------------------------- writing user-only records

USER_ONLY = [
    Conversation(id="a", messages=[Message(role="user", content="日本で一番高い山は？")],
                 metadata=Provenance(source="synth", generator_model="tiny", parent_id="seed-1")),
    Conversation(id="b", system="関西弁で答えて", messages=[Message(role="user", content="おすすめの本は？")]),
    Conversation(id="c", messages=[Message(role="user", content="一"), Message(role="assistant", content="二"),
                                   Message(role="user", content="三")]),
]


def test_user_only_records_round_trip_through_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "instructions.jsonl"
    assert write_records(out, USER_ONLY) == 3
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["messages"] == [{"role": "user", "content": "日本で一番高い山は？"}]
    assert load_records(out, require_answer=False) == USER_ONLY
    with pytest.raises(DataError) as info:  # a training read still wants the answers
        load_records(out)
    assert (info.value.line, info.value.field) == (1, "messages[0]")


@pytest.mark.parametrize(("fmt", "suffix"), [("alpaca", "jsonl"), ("ichikara", "jsonl"), ("sharegpt", "jsonl"),
                                             ("prompt_completion", "jsonl"), ("alpaca", "csv"),
                                             ("prompt_completion", "parquet")])
def test_single_turn_instructions_round_trip_in_other_formats(tmp_path: Path, fmt: str, suffix: str) -> None:
    records = USER_ONLY[:2] if fmt != "ichikara" else USER_ONLY[1:2]
    out = tmp_path / f"out.{suffix}"
    write_records(out, records, fmt)
    assert load_records(out, require_answer=False) == records
    with pytest.raises(DataError, match=r"required field|does not end"):
        load_records(out)


def test_multi_turn_instruction_in_prompt_completion(tmp_path: Path) -> None:
    out = tmp_path / "pc.jsonl"
    write_records(out, USER_ONLY[2:], "prompt_completion")
    assert load_records(out, require_answer=False) == USER_ONLY[2:]
    with pytest.raises(DataError, match="cannot be written"):  # alpaca holds one question only
        write_records(tmp_path / "alpaca.jsonl", USER_ONLY[2:], "alpaca")


# ---------------------------------------------------------------- CLI and synth

def test_cli_validate_and_convert_allow_unanswered(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("日本の首都は？\n富士山について説明して\n", encoding="utf-8")
    code, _, error = run(["data", "validate", str(seeds)])
    assert code == 1 and "instructions without answers" in error

    code, out, _ = run(["data", "validate", str(seeds), "--allow-unanswered", "--json"])
    summary = json.loads(out)
    assert code == 0 and (summary["records_in"], summary["accepted"], summary["unanswered"]) == (2, 2, 2)

    dst = tmp_path / "seeds.jsonl"
    code, out, _ = run(["data", "convert", str(seeds), str(dst), "--allow-unanswered", "--json"])
    assert code == 0 and json.loads(out)["written"] == 2
    assert [r.instruction for r in load_records(dst, require_answer=False)] == ["日本の首都は？", "富士山について説明して"]

    # without the flag a file mixing answered and unanswered records quarantines the latter
    mixed = _jsonl(tmp_path / "mixed.jsonl", [ANSWERED, {"instruction": "答えのない指示"}])
    code, out, _ = run(["data", "convert", str(mixed), str(tmp_path / "m.jsonl"), "--json"])
    summary = json.loads(out)
    assert code == 0 and (summary["written"], summary["quarantined"]) == (1, 1)
    assert summary["errors"][0]["line"] == 2 and summary["errors"][0]["field"] == "output"


def test_synth_reads_instructions_through_the_shared_loader(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.txt"
    seeds.write_bytes("敬語にして\n要約して\n".encode("cp932"))
    assert [(r.id, r.instruction) for r in load_inputs(seeds)] == [("seeds-1", "敬語にして"), ("seeds-2", "要約して")]

    pairs = _jsonl(tmp_path / "pairs.jsonl", [{"id": "p1", "system": "簡潔に", "prompt": "挨拶して",
                                                "chosen": "こんにちは。", "rejected": "やあ"}])
    [conv] = load_inputs(pairs)
    assert (conv.id, conv.system, _roles(conv), conv.instruction) == ("p1", "簡潔に", ["user"], "挨拶して")

    bad = _jsonl(tmp_path / "bad.jsonl", [{"instruction": "よい"}, {"instruction": "", "output": ""}])
    with pytest.raises(DataError) as info:
        load_inputs(bad)
    assert (info.value.line, info.value.field) == (2, "instruction")


def test_synth_output_without_answers_reads_back(tmp_path: Path) -> None:
    """`oshie synth evol/magpie --no-answer` writes user-only records; the next stage reads them."""
    from oshie.synth.output import ResumableJsonl

    rec = Conversation(id="evol-1", messages=[Message(role="user", content="もっと難しい質問にして")],
                       metadata=Provenance(generator_model="tiny", stage="evol", parent_id="seed-3",
                                           generation_params={"temperature": 0.7, "seed": 1}))
    out = ResumableJsonl(tmp_path / "evolved.jsonl")
    out.write(rec.model_dump(mode="json", exclude_none=True))  # as SynthRun.keep writes it
    out.close()
    assert load_records(out.path, require_answer=False) == [rec]
    assert load_inputs(out.path) == [rec]
