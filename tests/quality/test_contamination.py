"""Contamination: evaluation items (JGLUE JSON lines, SQuAD JSON, ELYZA CSV, record files) inside training data."""

from __future__ import annotations

import json
from importlib import resources

from oshie.data.check import check_records
from oshie.data.contamination import build_index, load_eval_segments

from .conftest import conv


def shipped(path: str) -> str:
    return str(resources.files("oshie").joinpath(f"resources/evalsets/{path}"))


def test_reads_every_shipped_eval_layout():
    for path, field in [("jcommonsenseqa/valid-v1.1.json", "question"), ("jnli/valid-v1.1.json", "sentence1"),
                        ("marc_ja/valid-v1.1.json", "sentence"), ("jsquad/valid-v1.1.json", "context"),
                        ("elyza_tasks/test.csv", "input"), ("summarization/test.jsonl", "source")]:
        segments = load_eval_segments(shipped(path))
        assert segments and any(s.field.startswith(field) for s in segments), path
        assert all(len(s.text) >= 8 for s in segments)


def test_finds_a_jsquad_question_and_a_jcqa_question_in_training_records():
    with open(shipped("jsquad/valid-v1.1.json"), encoding="utf-8") as fh:
        squad = json.load(fh)
    context = squad["data"][0]["paragraphs"][0]["context"]
    with open(shipped("jcommonsenseqa/valid-v1.1.json"), encoding="utf-8") as fh:
        jcqa = next(row for row in map(json.loads, fh) if len(row["question"]) >= 15)
    records = [
        conv("次の文章を読んで答えてください。\n" + context.split("[SEP]")[-1].strip(), "はい。", "leak-context"),
        conv("クイズ：" + jcqa["question"], "わかりません。", "leak-question"),
        conv("富士山の高さを教えてください。", "三七七六メートルです。", "clean"),
    ]
    result = check_records(records, eval_sets=[shipped("jsquad/valid-v1.1.json"), shipped("jcommonsenseqa/valid-v1.1.json")])
    hits = {records[f.index].id: f for f in result.findings if f.check == "contamination"}
    assert set(hits) == {"leak-context", "leak-question"}, hits
    f = hits["leak-question"]
    assert f.details["eval_set"] == "jcommonsenseqa/valid-v1.1.json" and f.span.text == jcqa["question"].rstrip("？?")
    assert f.details["containment"] >= 0.9


def test_containment_not_jaccard_and_whitespace_width_insensitive(tmp_path):
    ev = tmp_path / "ev.csv"
    ev.write_text("input,output,eval_aspect\n雨の日でも子どもが家の中で楽しく過ごせる遊びを三つ提案してください。,折り紙,具体的\n", "utf-8")
    index = build_index([ev])
    long_record = "今日は晴れ。" * 30 + "雨の日でも子どもが 家の中で楽しく過ごせる遊びを、三つ提案してください。" + "おわり" * 30
    hits = index.query(long_record)
    assert hits and hits[0].segment.field == "input" and hits[0].containment >= 0.8
    assert index.query("雨の日には家で本を読みます。") == []


def test_record_files_are_eval_sets_too(tmp_path):
    ev = tmp_path / "held_out.jsonl"
    row = {"id": "h1", "messages": [{"role": "user", "content": "日本でいちばん長い川の名前と長さを答えてください。"},
                                    {"role": "assistant", "content": "信濃川で、長さは約三百六十七キロメートルです。"}]}
    ev.write_text(json.dumps(row, ensure_ascii=False) + "\n", "utf-8")
    segments = load_eval_segments(ev)
    assert {s.item for s in segments} == {"h1"}
