"""Defects machine translation leaves in instruction data, found by reading real translated
sets: two things translated to one word, translated placeholders, the translator's framing
left in the answer, junk one-kana answers, labels that lost their colon, "N words" turned
into N字, Wikipedia debris, instructions whose task sentence was lost, imperial units.

Each check looks at the request (`Turn.task`) apart from the passage the user supplied,
so a document pasted as material never reads as part of the request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from oshie.data.check.base import Check, CheckParams, Finding, Record, TextField, Turn, register
from oshie.data.check.text import any_pattern, katakana_words, mask_code, mask_quotes
from oshie.ja.numbers import NUMBER_CHARS, parse_number

# ---------------------------------------------------------------- collapsed translation
# "Holland and the Netherlands" -> "オランダとオランダ": one word on both sides of a coordination
_COORDINATED = re.compile(r"(?<![ァ-ヶー一-龯])([ァ-ヶー]{2,}|[一-龯]{2,})(?:と|や|、|，|および|及び|または|か)\1(?![ァ-ヶー一-龯])")
_SAME_OR_DIFFERENT = re.compile(r"(?<![ァ-ヶー一-龯])([ァ-ヶー]{2,}|[一-龯]{2,})(?:と|は)\1(?:の違い|は同じ|を比べ|を比較|の差)")


def _reduplicated(word: str, text: str, end: int) -> bool:
    """'毎日毎日' (a doubled word) or 'X、X、X…' (a loop, repeated_ngrams' business) is not a collapse."""
    half = len(word) // 2
    doubled = len(word) % 2 == 0 and word[:half] == word[half:]
    return doubled or text[end : end + 1 + len(word)].lstrip("と、や，").startswith(word)


@register
class CollapsedTranslation(Check, code="collapsed_translation", severity="error", family="translation", each="text",
                           first_only=True):
    """Two different things translated to one word ('オランダとオランダの違い'): the record no longer makes sense."""

    def inspect(self, record: Record, f: TextField) -> Iterator[Finding]:
        text = mask_quotes(mask_code(f.text))
        m = _SAME_OR_DIFFERENT.search(text) or next(
            (c for c in _COORDINATED.finditer(text) if not _reduplicated(c.group(1), text, c.end())), None)
        if m:
            yield self.finding(record, f"'{m.group(1)}' on both sides of '{m.group()}': two things translated to "
                               "the same word", self.span(f, *m.span()), cue=m.group())


# ---------------------------------------------------------------- translated placeholder
# Alpaca's "<noinput>" / "<nooutput>" / "N/A" rendered as words
_PLACEHOLDER = katakana_words([
    "ノインプット", "ノーインプット", "ノーアウトプット", "ノウアウトプット", r"＜入力なし＞", r"<入力なし>",
    r"＜出力なし＞", r"<出力なし>", "入力なし", "インプットなし", "インプット無し", r"<ノーインプット>",
])
_BARE_PLACEHOLDER = re.compile(r"^\s*(?:<noinput>|<nooutput>|noinput|nooutput|なし|N/A|該当なし)\s*$", re.I)


@register
class TranslatedPlaceholder(Check, code="translated_placeholder", severity="error", family="translation", each="turn",
                            first_only=True):
    """A dataset placeholder such as <noinput> translated into the text (ノインプット, 入力なし)."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        for f in (t.instruction, t.answer):
            if m := _PLACEHOLDER.search(mask_quotes(f.text)):
                yield self.finding(record, f"translated placeholder '{m.group()}'", self.span(f, *m.span()),
                                   cue=m.group())
        if t.passage and _BARE_PLACEHOLDER.match(t.passage):
            yield self.finding(record, f"the input is only the placeholder '{t.passage.strip()}'",
                               self.span(t.instruction, t.task_end))


# ---------------------------------------------------------------- translation framing
# "Given this paragraph about X, ..." translated into the *answer*
_FRAMING = re.compile(
    r"^\s*(?:この|上記の|与えられた|提供された|以下の|参照)(?:段落|文章|テキスト|パラグラフ|参照テキスト|記事|文)"
    r"(?:を考えると|を考慮すると|を踏まえると|を与えられた場合|を与えられると|が与えられた場合|に基づいて|からすると)"
    r"|^\s*(?:段落|パラグラフ|参照テキスト)(?:を考えると|が与えられた場合)"
)


@register
class TranslationFraming(Check, code="translation_framing", severity="warning", family="translation", each="turn",
                         first_only=True):
    """The answer opens with the instruction's translated framing ('この段落を考えると…') instead of answering."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        if m := _FRAMING.search(t.answer.text):
            cue = m.group().strip()
            yield self.finding(record, f"answer starts with translated framing '{cue}'", self.span(t.answer, *m.span()),
                               cue=cue)


# ---------------------------------------------------------------- junk answer
_JUNK = re.compile(r"^[\s。、.,!?！？…ー〜-]*[ぁ-ゖァ-ヺ]?[\s。、.,!?！？…ー〜-]*$")
# questions a single character can answer: choices, yes/no in kana, a kanji
_CHOICE = any_pattern(["選んで", "選択", "記号で", "どれ", "どちら", "ア〜", "ア～", "イ", "A", "B", "一文字", "1文字", "一字", "漢字"])


@register
class JunkAnswer(Check, code="junk_answer", severity="error", family="length", each="turn", first_only=True):
    """The answer is one kana or only punctuation ('あ', 'ー', '。'): nothing a model should learn."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        a = t.answer.text
        if a.strip() and _JUNK.match(a) and not _CHOICE.search(t.task):
            yield self.finding(record, f"junk answer '{a.strip()}'", self.span(t.answer))


# ---------------------------------------------------------------- lost label colon
_LABELS = "質問|回答|答え|入力|出力|文脈|段落|説明|理由|結論|名前|カテゴリ|ラベル|感情|分類|例|文章|テキスト|要約|翻訳"
_LOST_COLON = re.compile(rf"^(?:{_LABELS})[ \u3000]+(?=\S)(?![（(「『])", re.M)


@register
class LostLabelColon(Check, code="lost_label_colon", severity="warning", family="translation", each="text",
                     first_only=True):
    """A field label lost its colon in translation ('回答 はい' for 'Answer: yes')."""

    def inspect(self, record: Record, f: TextField) -> Iterator[Finding]:
        if m := _LOST_COLON.search(mask_code(f.text)):
            label = m.group().strip()
            yield self.finding(record, f"label '{label}' without its colon", self.span(f, *m.span()), cue=label)


# ---------------------------------------------------------------- word limits turned into characters
_CHAR_LIMIT = re.compile(rf"([{NUMBER_CHARS}]+)\s*(?:文字|字)(?:以内|以下|程度|くらい|前後|まで|で)")
_WORD_LIMIT = re.compile(rf"([{NUMBER_CHARS}]+)\s*(?:単語|語)(?:以内|以下|程度|くらい|前後|まで|で|の)")


class WordLimitParams(CheckParams):
    min_overshoot: float = 2.0  # answer at least this many times the N字 limit ...
    max_limit: int = 300  # ... where the limit was this small (a word count read as characters)
    min_word_limit: int = 10  # "N単語で" with N at least this is a translated word count


@register
class WordLimitAsChars(Check[WordLimitParams], code="word_limit_as_chars", severity="warning", family="translation",
                       each="turn", first_only=True):
    """'N words' translated as N字 (the answer is several times longer) or left as 'N単語で'."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        p = self.params
        n = len("".join(t.answer.text.split()))
        if (m := _CHAR_LIMIT.search(t.task)) and (limit := parse_number(m.group(1))):
            if limit <= p.max_limit and n >= p.min_overshoot * limit:
                yield self.finding(record, f"asks for '{m.group()}' but the answer has {n} characters: probably "
                                   "'N words' in the source", self.span(t.instruction, *m.span()), limit=limit, chars=n)
        if (m := _WORD_LIMIT.search(t.task)) and (limit := parse_number(m.group(1))) and limit >= p.min_word_limit:
            yield self.finding(record, f"'{m.group()}': Japanese is not counted in words",
                               self.span(t.instruction, *m.span()), limit=limit)


# ---------------------------------------------------------------- Wikipedia debris
_DEBRIS = re.compile(
    r"(?<![A-Za-z0-9_\]\)])\[(?:\d{1,3}|note \w+|注\s?\w+|注釈\s?\d+|citation needed|要出典|編集|edit|要検証)\]"
    r"|\((?:listen|help·info|聞く)\)|（(?:聞く|listen|音声)）|\[\s?(?:出典|脚注)\s?\d*\]",
    re.I,
)


@register
class WikiDebris(Check, code="wiki_debris", severity="warning", family="translation", each="text", first_only=True):
    """Wikipedia debris copied with the text: reference marks [2], [note a], (listen), [要出典]."""

    def inspect(self, record: Record, f: TextField) -> Iterator[Finding]:
        if m := _DEBRIS.search(mask_code(f.text)):
            yield self.finding(record, f"Wikipedia debris '{m.group()}'", self.span(f, *m.span()), cue=m.group())


# ---------------------------------------------------------------- lost task sentence
_REQUEST = re.compile(
    r"[?？]|(?:か|かな|の)[。．]?\s*$|て(?:ください|下さい|くれ|ほしい|欲しい|みて)|しなさい|なさい|ませんか|ましょう|"
    r"教え|説明|答え|書い|書き|挙げ|あげて|作って|作成|分類|要約|翻訳|訳し|まとめ|並べ|選ん|選び|比較|考え|述べ|"
    r"何|なに|なぜ|(?<![ぁ-ゖ])どう(?![ぁ-ゖ])|どうし|どうや|どうな|どうい|どうす|どこ|いつ|誰|どれ|どの|いくつ|いくら|どんな|どのよう|ですか|ますか|でしょうか|とは|について|"
    r"して。|して$|しろ|せよ|こと。$|方法|コツ|こつ|ヒント|アイデア|案|リスト|一覧|例を|提案|おすすめ|オススメ|計算|求め|"
    r"訂正|修正|直し|変換|抽出|特定|判定|判断|予測|推測|評価|採点|記述|紹介|解説|言い換|続き|完成|生成|作れ",
)
_ITEM_SPLIT = re.compile(r"[、,，\n・/]")


@register
class MissingTask(Check, code="missing_task", severity="warning", family="length", each="turn", first_only=True):
    """The instruction has no request, only material (a bare list of items): its task sentence was lost."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        task = t.task.strip()
        if not task or _REQUEST.search(task):
            return
        items = [x for x in _ITEM_SPLIT.split(task) if x.strip()]
        if len(items) >= 3 and max(len(x.strip()) for x in items) <= 25:
            yield self.finding(record, f"the instruction is a bare list of {len(items)} items with no request",
                               self.span(t.instruction, 0, len(task)), items=len(items))


# ---------------------------------------------------------------- imperial units
_IMPERIAL = katakana_words([
    rf"[{NUMBER_CHARS}.,．]+\s*(?:マイル|フィート|インチ|ヤード|ガロン|オンス|ポンド|エーカー)",
    rf"華氏\s*[{NUMBER_CHARS}.]+\s*度?", r"[0-9０-９.]+\s*°\s*F(?![a-zA-Z])", r"[0-9０-９.]+\s*(?:mph|mi|ft|lbs?|oz)(?![a-zA-Z])",
])
# a metric *value* beside it ("（約160キロ）"); "何センチですか" asks for one and does not count
_METRIC = re.compile(
    rf"[{NUMBER_CHARS}.,．]+\s*(?:キロ|メートル|センチ|ミリ|グラム|リットル|ヘクタール|平方メートル|℃|"
    r"(?:km|m|cm|mm|kg|g|L|ml)(?![a-zA-Z]))|摂氏\s*[0-9０-９一二三四五六七八九十百]"
)
# where the unit is the Japanese norm too: screens, tyres, golf, pound sterling, bowling balls
_CUSTOMARY = any_pattern([
    "型", "モニター", "ディスプレイ", "テレビ", "画面", "液晶", "タイヤ", "ホイール", "ゴルフ", "ヤード", "英ポンド",
    "円", "為替", "通貨", "ボウリング", "ボール", "釣り", "ライン", "ジーンズ", "ウエスト", "自転車", "インチアップ",
])


@register
class ImperialUnits(Check, code="imperial_units", severity="warning", family="translation", each="text",
                    first_only=True):
    """Imperial units (miles, feet, pounds, °F) as the main unit with no metric value beside them."""

    def inspect(self, record: Record, f: TextField) -> Iterator[Finding]:
        text = mask_code(f.text)
        m = _IMPERIAL.search(text)
        if m is None:
            return
        window = text[max(0, m.start() - 30) : m.end() + 30]
        if not (_METRIC.search(window) or _CUSTOMARY.search(window)):
            yield self.finding(record, f"imperial unit '{m.group()}' with no metric value", self.span(f, *m.span()),
                               cue=m.group())
