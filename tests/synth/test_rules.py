"""The parts without an LLM: filters, keep-expressions, JSON recovery, license rules,
prompt templates and the resumable writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oshie.errors import UsageError
from oshie.prompts import check_fields, load_prompt
from oshie.synth.filters import Changed, NotRefusal, instruction_filters
from oshie.synth.jsonparse import find_json
from oshie.synth.keep_expr import KeepExpression
from oshie.synth.license import check_models, load_rules, match
from oshie.synth.output import ResumableJsonl
from oshie.synth.preference import parse_score
from oshie.synth.screen import TAGS, parse_tags
from oshie.synth.self_instruct import parse_candidates


@pytest.mark.parametrize(("text", "reason"), [
    ("日本の四季について説明してください。", None),
    ("次の文を英語に翻訳して", None),  # te-form requests are complete
    ("この画像に写っている動物は何ですか。", "blocklist"),
    ("グラフを描いて売上の推移を示してください。", "blocklist"),
    ("添付ファイルの内容を要約してください。", "blocklist"),
    ("、次の文章を要約してください。", "start_end"),
    ("東京と大阪の違いを比べると、", "start_end"),
    ("次の文章の主題を", "start_end"),
    ("Summarize the following article.", "not_japanese"),
    ("要約して", "length"),  # 4 characters
    ("。。。！？", "empty"),
    ("富士山\ufffdの高さは何メートルですか。", "broken_text"),
])
def test_instruction_filters(text: str, reason: str | None) -> None:
    failure = instruction_filters().first_failure(text)
    assert (failure[0] if failure else None) == reason


def test_length_is_counted_in_characters_not_words() -> None:
    chain = instruction_filters(min_chars=5, max_chars=20)
    assert chain.first_failure("富士山の高さは何メートルですか。") is None  # one "word", 16 chars
    assert chain.first_failure("富士山の高さと、その高さになった理由を詳しく説明してください。")[0] == "length"


def test_evol_elimination_rules() -> None:
    assert Changed("猫について説明してください。").apply("猫について説明してください。") is not None
    assert Changed("猫について説明してください。").apply(
        "猫の習性について、具体例を二つ挙げて説明してください。") is None
    assert NotRefusal().apply("申し訳ありませんが、その質問にはお答えできません。") is not None
    assert NotRefusal().apply("光合成とは、植物が光を使って養分を作るしくみです。") is None


def test_keep_expression_semantics() -> None:
    keep = KeepExpression("quality>=4 and safety=='safe' and category in ('説明', '要約')", TAGS)
    assert keep({"quality": 4, "safety": "safe", "category": "説明"})
    assert not keep({"quality": 5, "safety": "unsafe", "category": "説明"})
    assert not keep({"quality": 3, "safety": "safe", "category": "説明"})
    assert not keep({"safety": "safe", "category": "説明"})  # missing tag: no match
    assert not keep({"quality": "high", "safety": "safe", "category": "説明"})  # str vs int
    assert KeepExpression("not (difficulty == 'easy') or 3 < quality <= 5", TAGS)(
        {"difficulty": "easy", "quality": 4})


@pytest.mark.parametrize("expr", [
    "__import__('os').system('echo hi')", "quality.__class__", "quality + 1 > 2",
    "[x for x in ()]", "lambda: 1", "quality if 1 else 2", "qualityy >= 4", "quality >",
    "open('x')", "quality in (abs,)",
])
def test_keep_expression_rejects_everything_but_comparisons(expr: str) -> None:
    with pytest.raises(UsageError):
        KeepExpression(expr, TAGS)


def test_find_json_in_wrapped_answers() -> None:
    assert find_json('はい。\n```json\n{"quality": 4,}\n```\n以上です。') == {"quality": 4}
    assert find_json("評価：｛＂score＂：８｝") == {"score": 8}
    assert find_json('前置き [1, 2] 本体 [{"instruction": "a"}]', list,
                     accept=lambda v: any(isinstance(x, dict) for x in v)) == [{"instruction": "a"}]
    assert find_json("JSONはありません") is None


def test_judge_answers_are_normalised() -> None:
    tags = parse_tags('```json\n{"input_quality": "4点", "difficulty": "Hard", "category": "説明", '
                      '"safety": "安全", "quality": ５}\n```')
    assert tags == {"input_quality": 4, "difficulty": "hard", "category": "説明",
                    "safety": "safe", "quality": 5}
    assert parse_tags('{"quality": 9}') is None  # out of range: no usable tag
    assert parse_score('{"score": 7, "reason": "良い"}') == 7
    assert parse_score("総合して8点です。") == 8
    assert parse_score('{"score": 11}') is None


def test_self_instruct_answers_parse_as_json_or_numbered_lines() -> None:
    js = '結果です。\n[{"instruction": "猫の習性を説明してください。", "input": "", "output": "猫は…"}]'
    assert parse_candidates(js)[0]["instruction"] == "猫の習性を説明してください。"
    numbered = "1. 俳句を一つ作ってください。\n2) 日本の祝日を三つ挙げてください。\n雑談"
    assert [c["instruction"] for c in parse_candidates(numbered)] == [
        "俳句を一つ作ってください。", "日本の祝日を三つ挙げてください。"]


def test_license_rules_match_names_and_paths(tmp_path: Path) -> None:
    rules = load_rules()
    assert match("gpt-4o-mini", rules) is not None
    assert match("Claude-3-5-Sonnet", rules) is not None  # case-insensitive
    assert match("meta-llama/Llama-2-7b-chat-hf", rules) is not None  # last path part
    assert match("Qwen/Qwen2.5-7B-Instruct", rules) is None
    assert match("llm-jp-3-13b-instruct", rules) is None
    assert check_models({"generator": "gpt-4o"}, rules, allow=True) is True
    assert check_models({"generator": "my-model"}, rules, allow=False) is False
    with pytest.raises(UsageError, match=r"judge model 'gemini-1\.5-pro'"):
        check_models({"generator": "my-model", "judge": "gemini-1.5-pro"}, rules, allow=False)


def test_prompts_by_name_and_by_path(tmp_path: Path) -> None:
    shipped = load_prompt("synth_evol_deepen_v1")
    assert shipped.fields == {"instruction"} and "#与えられたプロンプト#" in shipped.text
    text = shipped.render(instruction="猫について説明してください。{x}")
    assert "猫について説明してください。{x}" in text and "{{" not in text
    mine = tmp_path / "my_deepen.txt"
    mine.write_text("もっと難しくして：{{instruction}}", encoding="utf-8")
    assert load_prompt(str(mine)).render(instruction="A") == "もっと難しくして：A"
    bad = tmp_path / "bad.txt"
    bad.write_text("何も差し込まない", encoding="utf-8")
    with pytest.raises(UsageError, match="lacks"):
        check_fields(load_prompt(str(bad)), {"instruction"})
    with pytest.raises(UsageError, match="synth_self_instruct_v1"):
        load_prompt("synth_no_such_template")


def test_resumable_writer_cuts_a_torn_line_and_reconciles(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    w = ResumableJsonl(path)
    w.write({"id": "a", "v": 1})
    w.write({"id": "b", "v": 2})
    w.abort()  # a crash: no reconciliation
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"id": "c", "v"')  # killed mid-write
    w2 = ResumableJsonl(path)
    assert w2.resumed_lines == 2
    for rid, v in (("a", 1), ("x", 9), ("b", 2)):
        w2.write({"id": rid, "v": v})
    assert not w2.write({"id": "a", "v": 1})  # written once per run
    w2.close()
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert rows == [{"id": "a", "v": 1}, {"id": "x", "v": 9}, {"id": "b", "v": 2}]
