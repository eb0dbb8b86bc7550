"""Machine-translation artefacts: English left untranslated, tasks that only make sense in
English, translators' notes left in the text, and text that is barely Japanese."""

from __future__ import annotations

import re
from collections.abc import Iterator

from oshie.data.check.base import (
    Check,
    CheckParams,
    Finding,
    Record,
    TextField,
    Turn,
    register,
    text_fields,
    turns,
)
from oshie.data.check.text import any_pattern, katakana_words, mask_code, mask_quotes
from oshie.ja.chars import LATIN_LETTER, count_japanese, japanese_ratio, latin_runs

# the instruction asks for English (or code), so English in the answer is the point
_WANTS_ENGLISH = any_pattern([
    "英語で", "英訳", "英文", "英作文", "英語に", "英語の", "翻訳", "訳して", "in English",
    "English", "コード", "プログラム", "関数", "スクリプト", "SQL", "正規表現", "コマンド",
])


class EnglishRunParams(CheckParams):
    min_words: int = 5  # a run of this many English words inside Japanese text is suspect ...
    min_function_words: int = 1  # ... if it reads as prose: this many function words (the, of, is ...)
    max_capitalised: float = 0.6  # ... and not mostly Capitalised Words (a title or a name)
    min_scattered: int = 2  # this many distinct lower-case English words strewn in Japanese text
    min_japanese_chars: int = 2  # only look inside texts with some Japanese in them


# lower-case English words glued into Japanese ("sunlightを使って"); capitalised names, acronyms
# and CamelCase product names are left alone, they are normal in Japanese text
_EMBEDDED_WORD = re.compile(rf"(?<![{LATIN_LETTER}0-9_.\-/@%])(?:[a-z][a-z]{{2,}})(?:[ \-][a-z]{{2,}})*(?![{LATIN_LETTER}0-9_(@])")
# lower-case words Japanese writers use as they are
LOANWORDS = frozenset("web app email mail online offline blog wifi ok pdf html css url http https www usb id ai it dx".split())
FUNCTION_WORDS = frozenset(
    "the a an of and or but to in on at for with from by is are was were be been being it its this that these those "
    "i you he she we they my your our their his her not no do does did have has had will would can could should "
    "there here what which who when where why how as if so than then into about me us them him yourself "
    "myself please very just also all some any more most".split()
)
_TOKEN = re.compile(rf"[{LATIN_LETTER}][{LATIN_LETTER}'’\-]*")
# tasks where English in the user's material is the point: translate, correct, explain English
_LANGUAGE_TASK = any_pattern([
    "翻訳", "訳して", "訳す", "和訳", "英訳", "日本語に", "英語の", "英文", "英語で", "英単語", "この文の文法",
    "スペルミス", "誤りを", "添削", "言い換え", "English", "英語", "in English",
])


def is_english_prose(words: list[str], min_function: int, max_capitalised: float) -> bool:
    """True for English sentences, False for names, titles, brands: prose has function words
    and mostly lower-case content words; 'The Lord of the Rings' has Capitalised content words."""
    function = [w for w in words if w.lower() in FUNCTION_WORDS]
    content = [w for w in words if w.lower() not in FUNCTION_WORDS]
    if len(function) < min_function or not content:
        return False
    capitalised = sum(1 for w in content if w[0].isupper())
    return capitalised / len(content) < max_capitalised


def texts_to_read(record: Record) -> Iterator[tuple[TextField, str, str | None]]:
    """The texts whose language matters, as (field, masked, request), for the two language checks.

    `masked` is the text with code, URLs and quotes blanked (offsets kept). `request` is set for
    a user message about language (translate, correct English): the English in its passage is
    the material, not a leftover, so only the request is to be read. Answers are left out when
    an instruction asks for English."""
    ts = turns(record)
    wants_english = any(_WANTS_ENGLISH.search(t.task) for t in ts)
    material = {t.instruction.path: t.task for t in ts if _LANGUAGE_TASK.search(t.task)}
    for f in text_fields(record):
        if not (f.role == "assistant" and wants_english):
            yield f, mask_quotes(mask_code(f.text)), material.get(f.path)


@register
class UntranslatedEnglish(Check[EnglishRunParams], code="untranslated_english", severity="warning",
                          family="translation"):
    """English prose left untranslated inside Japanese text (names, titles, brands, code, URLs,
    quotes and the English material of translation tasks are ignored)."""

    def apply(self, record: Record) -> list[Finding]:
        p = self.params
        found = []
        for f, masked, request in texts_to_read(record):
            if request is not None:  # only the request is read, its passage blanked
                masked = masked[: len(request)] + " " * (len(masked) - len(request))
            if count_japanese(masked) < p.min_japanese_chars:
                continue  # an all-English text is the low-ratio check's business
            runs = [(s, e, n) for s, e, n in latin_runs(masked, p.min_words)
                    if is_english_prose(_TOKEN.findall(masked[s:e]), p.min_function_words, p.max_capitalised)]
            for start, end, n in runs:
                found.append(self.finding(record, f"{n} English words left untranslated in Japanese text",
                                          self.span(f, start, end), words=n))
            if runs:
                continue
            words = [m for m in _EMBEDDED_WORD.finditer(masked) if m.group().lower() not in LOANWORDS]
            if len({m.group().lower() for m in words}) >= p.min_scattered:
                found.append(self.finding(
                    record, f"{len(words)} English words strewn in Japanese text "
                    f"({', '.join(m.group() for m in words[:5])})",
                    self.span(f, words[0].start(), words[-1].end()), words=len(words),
                ))
        return found


# tasks that only make sense for English words: a Japanese dataset translated from English keeps
# them, and their answers teach nothing about Japanese
_ENGLISH_ONLY_TASK = katakana_words([
    "アルファベット順", "ABC順", "abc順", "スペル", "綴り", "つづり", "韻を踏", "ライム", "頭韻",
    "(?<!五山の送り火の)(?<!京都の)大文字(?!焼|山|の送り火)", "小文字", "音節", "アナグラム", "母音で始まる", "子音で始まる", "複数形",
    "過去分詞", "三人称単数", "冠詞", "最初の文字が同じ", "文字を逆順",
    r"「[A-Za-zＡ-Ｚａ-ｚ]」(?:から|で)始まる", r"[A-Za-z]で始まる(?:単語|言葉|果物|動物|国)",
    r"「[A-Za-z]+」と「[A-Za-z]+」を使", "三人称単数", "英語では主語",
])
# grammar drills whose answer turns out to be English
_GRAMMAR_DRILL = any_pattern(["過去形", "現在形", "未来形", "進行形", "時制", "品詞", "疑問文に", "否定文に"])
# English taught on purpose (a learner's question) is not a translation artefact
_ENGLISH_LESSON = any_pattern(["英語学習", "英語の勉強", "英単語を覚え", "英語の授業", "TOEIC", "英検", "英語を学"])
# ... unless the instruction is about programming, where "大文字" or "アルファベット順" is real
_PROGRAMMING = any_pattern([
    "Python", "python", "JavaScript", "Java", "SQL", "プログラム", "コード", "関数", "ソート",
    "正規表現", "文字列", "配列", "リスト型", "変数", "Excel", "エクセル", "ファイル名",
])


@register
class ForeignLanguageTask(Check, code="foreign_language_task", severity="warning", family="translation", each="turn"):
    """The task only makes sense in English (alphabetical order, spelling, rhymes, capital letters)."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        q = t.instruction
        if _PROGRAMMING.search(q.text) or _ENGLISH_LESSON.search(q.text):
            return
        m = _ENGLISH_ONLY_TASK.search(q.text) or _ENGLISH_ONLY_TASK.search(t.answer.text)
        if m is None and (g := _GRAMMAR_DRILL.search(q.text)) and len(latin_runs(t.answer.text, 3)):
            m = g
        if m is not None:
            yield self.finding(
                record, f"'{m.group()}' is a task about English words; in a Japanese dataset it is usually a "
                "leftover of machine translation",
                self.span(q, *m.span()) if q.text[m.start():m.end()] == m.group() else None, cue=m.group(),
            )


# things that only an American/British reader takes for granted: imperial units, US holidays
# and institutions; translated datasets are full of them and they teach the wrong world
_FOREIGN_CULTURE = katakana_words([
    "感謝祭", "サンクスギビング", "独立記念日", "スーパーボウル", "プロム", "トリック・オア・トリート",
    r"(?:アメリカ|米国)の(?:大統領|州|高校|大学入試|祝日|選挙)", "州都", "社会保障番号", "SAT",
    "メモリアルデー", "レイバーデー", "ブラックフライデー", "ルート66", "ガールスカウトクッキー",
    "メジャーリーグ", "ホームラン・ダービー", r"イギリスの通貨", "自由の女神",
])


@register
class ForeignCulture(Check, code="foreign_culture", severity="warning", family="translation", each="turn",
                     first_only=True):
    """A US-centric task (US holidays, states and institutions) that a Japanese user would not ask: a sign of translated data."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        for f in (t.instruction, t.answer):
            if m := _FOREIGN_CULTURE.search(f.text):
                yield self.finding(record, f"assumes a foreign culture: '{m.group()}'", self.span(f, *m.span()),
                                   cue=m.group())


_NOTE = re.compile(
    r"[（(\[［【]\s*(?:訳注|訳者注|翻訳者注|翻訳注|注\s*[:：]\s*(?:原文|翻訳|英語|直訳)|原文|直訳|"
    r"Translator'?s? note|TN(?![A-Za-z])|Note(?![A-Za-z])(?!\s*[a-z0-9]{1,2}\s*[\]］]))\s*[:：]?[^）)\]］】\n]*[）)\]］】]"
    r"|^\s*(?:訳注|訳者注|翻訳者注|翻訳メモ|原文|Translation|Translated text|Original)\s*[:：].*$"
    r"|(?:以下(?:は|が)(?:日本語)?(?:の)?翻訳(?:です|になります)|翻訳(?:すると|結果)[:：]|"
    r"(?:※|注[:：])\s*(?:この|上記の)?(?:文|文章|テキスト)?は(?:英語|原文)から(?:の)?(?:機械)?翻訳)",
    re.M | re.I,
)


@register
class TranslationNote(Check, code="translation_note", severity="error", family="translation", each="text"):
    """A translator's note, original-text marker or 'here is the translation' preamble was left in."""

    def inspect(self, record: Record, f: TextField) -> Iterator[Finding]:
        if f.role == "assistant" and any(_WANTS_ENGLISH.search(t.instruction.text) for t in turns(record)):
            return  # "翻訳すると:" is a fine answer to a translation request
        for m in _NOTE.finditer(mask_code(f.text)):
            yield self.finding(record, "leftover translation note", self.span(f, *m.span()))


_LETTERS = re.compile(r"[^\W\d_]")


class RatioParams(CheckParams):
    min_ratio: float = 0.4  # Japanese share, with each Latin-alphabet word counted as `word_weight` characters
    word_weight: float = 2.0  # a Latin word is a unit of meaning, not five or ten kana
    min_letters: int = 12  # shorter texts are skipped (too little to judge)
    max_japanese_chars: int = 5  # a text with more Japanese than this is mixed, not foreign:
    # English sentences inside it are untranslated_english's business


@register
class LowJapaneseRatio(Check[RatioParams], code="low_japanese_ratio", severity="warning", family="translation"):
    """The text is mostly not Japanese (code, URLs, e-mail addresses and the English material of
    translation tasks are ignored)."""

    def apply(self, record: Record) -> list[Finding]:
        p = self.params
        found = []
        for f, masked, request in texts_to_read(record):  # quoted titles are names, whatever their language
            text = masked if request is None else request
            if len(_LETTERS.findall(text)) < p.min_letters or count_japanese(text) > p.max_japanese_chars:
                continue
            ratio = japanese_ratio(text, p.word_weight)
            if ratio < p.min_ratio:
                found.append(self.finding(
                    record, f"mostly not Japanese: Japanese share {ratio:.0%} (minimum {p.min_ratio:.0%})",
                    self.span(f), ratio=round(ratio, 3),
                ))
        return found
