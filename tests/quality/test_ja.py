"""oshie.ja: character classes, normalisation, sentence splitting, speech style."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from oshie.ja import (
    char_class,
    char_ratios,
    compact,
    japanese_ratio,
    latin_runs,
    normalize,
    parse_number,
    sentence_spans,
    sentence_style,
    sentence_styles,
    split_sentences,
    to_fullwidth_katakana,
    to_halfwidth_ascii,
)

JA_TEXT = st.text(alphabet=st.sampled_from(list("あいうえおカキクケコ漢字日本語。、！？「」（）\n ABCabc123")), max_size=80)


def test_char_classes():
    assert [char_class(c) for c in "あアｱ漢々AＡ1１。 "] == [
        "hiragana", "katakana", "katakana", "kanji", "kanji", "latin", "latin", "digit", "digit", "symbol", "space",
    ]
    ratios = char_ratios("ひらがなカタカナ漢字ABC")
    assert ratios["hiragana"] == 4 / 13 and ratios["katakana"] == 4 / 13 and ratios["latin"] == 3 / 13
    assert abs(sum(ratios.values()) - 1) < 1e-9


def test_japanese_ratio_ignores_digits_and_symbols():
    assert japanese_ratio("2024年、100円です。") == 1.0
    assert japanese_ratio("This is English.") == 0.0
    assert 0.3 < japanese_ratio("Pythonのリスト") < 0.7


def test_normalisation():
    assert to_halfwidth_ascii("ＡＢＣ１２３！") == "ABC123!"
    assert to_fullwidth_katakana("ｶﾞｷﾞﾊﾟﾝ") == "ガギパン"
    assert normalize("ＡＢＣ　　ｶﾀｶﾅ\n\n\n\n次") == "ABC カタカナ\n\n次"
    assert compact("Ｈｅｌｌｏ　Ｗｏｒｌｄ ですね") == "helloworldですね"


@given(JA_TEXT)
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


def test_sentence_split_keeps_quotes_together():
    text = "彼は「雨だ。傘を持とう。」と言った。本当ですか？はい！\n次の行"
    assert split_sentences(text) == ["彼は「雨だ。傘を持とう。」と言った。", "本当ですか？", "はい！", "次の行"]


@given(JA_TEXT)
def test_sentence_spans_cover_every_visible_character(text):
    spans = sentence_spans(text)
    covered = "".join(text[s:e] for s, e in spans)
    assert [c for c in covered if not c.isspace()] == [c for c in text if not c.isspace()]
    assert all(s < e for s, e in spans) and all(a[1] <= b[0] for a, b in pairwise(spans))


def test_speech_style_per_sentence():
    polite = ["東京は日本の首都です。", "毎朝七時に起きます。", "明日は雨でしょう。", "こちらをご覧ください。", "昨日は寒かったですね。"]
    plain = ["これはペンだ。", "私は毎朝七時に起きる。", "彼は学校へ行った。", "それは正しくない。", "要約とは短くまとめることである。"]
    assert [sentence_style(s) for s in polite] == ["polite"] * 5
    assert [sentence_style(s) for s in plain] == ["plain"] * 5
    assert sentence_style("美しい花。") is None or sentence_style("美しい花。") == "plain"
    assert sentence_style("日本の首都") is None  # a noun phrase has no style


def test_quoted_speech_does_not_set_the_style():
    assert sentence_style("先生は「明日は休みだ」とおっしゃいました。") == "polite"
    styles = sentence_styles("例文：「自転車で通勤すると一石二鳥だ。」\n使い方は以上です。")
    assert [s for *_, s in styles] == ["polite"]


def test_latin_runs():
    runs = latin_runs("これは This is a pen that I bought です。Python の list", min_words=3)
    assert len(runs) == 1 and runs[0][2] == 7


def test_morphemes_lazy_fugashi():
    from oshie.ja.morph import morphemes

    assert morphemes("東京に行きます") == ["東京", "に", "行き", "ます"]


def test_parse_number():
    cases = {"30": 30, "３０": 30, "三十": 30, "二百五十": 250, "五千二百八十": 5280, "一万二千": 12000,
             "二〇二四": 2024, "十": 10, "百一": 101, "1,400": 1400, "三億": 300_000_000}
    assert {k: parse_number(k) for k in cases} == cases
    assert parse_number("たくさん") is None and parse_number("") is None
