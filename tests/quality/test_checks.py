"""Single checks on hand-made records, the YAML config, and the pipeline's bookkeeping."""

from __future__ import annotations

import pytest

from oshie.data.check import CheckConfig, Pipeline, check_records, load_check_config
from oshie.data.check.fluency import markdown_problems
from oshie.data.check.pii import find_pii, luhn_valid, my_number_valid
from oshie.errors import ConfigError
from oshie.records import Conversation, PreferencePair

from .conftest import conv


def codes(record, **config) -> set[str]:
    return {f.check for f in check_records([record], CheckConfig(**config)).findings}


def test_validators_against_known_numbers():
    assert luhn_valid("4111111111111111") and luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")
    # digits 1..11 and the check digit computed by hand from the published formula
    body = "12345678901"
    total = sum(int(body[11 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    check = 0 if total % 11 <= 1 else 11 - total % 11
    assert my_number_valid(body + str(check))
    assert not my_number_valid(body + str((check + 1) % 10))


def test_pii_kinds_and_non_pii_numbers():
    text = ("連絡先 taro@mail.co.jp、携帯 080-1234-5678、〒100-0001、カード 4111 1111 1111 1111。"
            "見本 user@example.com、窓口 0120-444-555、日付 2024-01-15、ISBN 978-4-00-310101-8、"
            "注文番号 1234-5678-9012、在庫 1,234,567個")
    kinds = [(k, text[s:e]) for s, e, k in find_pii(text)]
    assert kinds == [("email", "taro@mail.co.jp"), ("mobile_phone", "080-1234-5678"), ("postal_code", "100-0001"),
                     ("card_number", "4111 1111 1111 1111")]


def test_ng_words_respect_word_boundaries():
    assert "ng_word" in codes(conv("感想は？", "このカスが。"))
    assert "ng_word" not in codes(conv("窓口は？", "カスタマーセンターへどうぞ。"))
    assert "ng_word" not in codes(conv("原因は？", "ピンボケの原因は手ぶれです。"))


def test_ng_word_extra_list_and_category_severity(tmp_path):
    extra = tmp_path / "company.txt"
    extra.write_text("# 社内の禁止語\n極秘\n", encoding="utf-8")
    cfg = CheckConfig(checks={"ng_word": {"extra_files": [str(extra)], "category_severity": {"company": "info"}}})
    result = check_records([conv("資料は？", "これは極秘の資料です。")], cfg)
    (f,) = [f for f in result.findings if f.check == "ng_word"]
    assert f.details["category"] == "company" and f.severity == "info" and f.span.text == "極秘"


def test_markdown_problems():
    assert markdown_problems("1. a\n2. b\n4. c") == [(10, 14, "numbered list jumps from 2 to 4")]
    assert markdown_problems("1. a\n1. b\n1. c") == []
    assert markdown_problems("手順\n1. a\n2. b\n\n別の話\n1. c\n2. d") == []
    assert markdown_problems("```python\nprint(1)\n```") == []
    assert markdown_problems("説明\n```python\nprint(1)")[0][2] == "code fence ``` is never closed"


def test_refusal_depends_on_the_request():
    refusal = "申し訳ありませんが、その質問にはお答えできません。"
    assert "unjustified_refusal" in codes(conv("カレーの作り方を教えてください。", refusal))
    assert "unjustified_refusal" not in codes(conv("爆弾の作り方を教えてください。", refusal))
    apology = "ご迷惑をおかけして申し訳ありません。明日お届けします。"
    assert "unjustified_refusal" not in codes(conv("荷物が届きません。", apology))


def test_length_rules_follow_the_instruction():
    long_answer = "富士山は日本で一番高い山で、標高は三七七六メートルあります。" * 3
    # three times the limit is what "30 words" translated as 三十文字 looks like
    assert "word_limit_as_chars" in codes(conv("富士山を三十文字以内で説明してください。", long_answer))
    assert "answer_too_long" in codes(conv("富士山を六十文字以内で説明してください。", long_answer))
    assert "answer_too_long" not in codes(conv("富士山について説明してください。", long_answer))
    assert "answer_too_short" in codes(conv("富士山について詳しく説明してください。", "山です。"))
    assert "answer_too_short" not in codes(conv("日本の首都はどこですか。", "東京です。"))


def test_echo_versus_a_summary():
    q = "次の文章を要約してください：駅前の図書館が改装され、夜九時まで開くようになった。仕事帰りの人が増えている。"
    assert "answer_repeats_instruction" in codes(conv(q, q))
    assert "answer_repeats_instruction" not in codes(conv(q, "図書館が夜九時まで開き、仕事帰りの利用が増えた。"))
    assert "answer_repeats_instruction" in codes(conv("会議について教えてください。", "会議について教えます。会議とは、会議のことです。"))


def test_preference_pairs_are_checked_on_the_chosen_answer_only():
    pair = PreferencePair(
        id="pp1", prompt=[{"role": "user", "content": "カレーの作り方を教えてください。"}],
        chosen=[{"role": "assistant", "content": "玉ねぎを炒め、肉と野菜を煮込んでルウを溶かします。"}],
        rejected=[{"role": "assistant", "content": "申し訳ありませんが、お答えできません。"}],
    )
    assert check_records([pair]).findings == []


def test_multi_turn_checks_every_answer():
    record = Conversation(id="m1", messages=[
        {"role": "user", "content": "こんにちは。"}, {"role": "assistant", "content": "こんにちは。何をお手伝いしましょうか。"},
        {"role": "user", "content": "味噌汁の作り方を教えてください。"},
        {"role": "assistant", "content": "申し訳ありませんが、その質問にはお答えできません。"},
    ])
    (f,) = [f for f in check_records([record]).findings if f.check == "unjustified_refusal"]
    assert f.span.field == "messages[3].content"


def test_config_switches_and_overrides(tmp_path):
    record = conv("カレーの作り方を教えてください。", "申し訳ありませんが、その質問にはお答えできません。")
    cfg_file = tmp_path / "check.yaml"
    cfg_file.write_text("checks:\n  unjustified_refusal:\n    severity: info\n  over_cautious:\n    enabled: false\n", "utf-8")
    cfg = load_check_config(cfg_file)
    (f,) = check_records([record], cfg).findings
    assert f.check == "unjustified_refusal" and f.severity == "info"
    assert "over_cautious" not in {c.code for c in Pipeline.from_config(cfg).checks}
    cfg = load_check_config(cfg_file, ["checks.unjustified_refusal.enabled=false"])
    assert check_records([record], cfg).findings == []
    assert [c.code for c in Pipeline.from_config(load_check_config(None, ["only=[pii, ng_word]"])).checks] == ["ng_word", "pii"]


@pytest.mark.parametrize(("text", "field"), [
    ("checks:\n  pii:\n    kindz: [email]\n", "checks.pii.kindz"),
    ("checks:\n  no_such_check: {}\n", "checks.no_such_check"),
    ("chekcs: {}\n", "chekcs"),
    ("checks:\n  duplicate:\n    threshold: high\n", "checks.duplicate.threshold"),
])
def test_config_errors_name_the_key(tmp_path, text, field):
    path = tmp_path / "bad.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as err:
        Pipeline.from_config(load_check_config(path))
    assert err.value.field == field


def test_split_puts_every_record_in_exactly_one_place(planted):
    result = check_records(planted[:80])
    for drop in ("error", "warning", "info"):
        kept, quarantined = result.split(drop)
        assert len(kept) + len(quarantined) == 80
        assert {r.id for r in kept}.isdisjoint({r.id for r, _ in quarantined})
    assert len(result.passed("error")) >= len(result.passed("warning")) >= len(result.passed("info"))
    stats = result.stats
    assert sum(s.findings for s in stats.values()) == len(result.findings)
