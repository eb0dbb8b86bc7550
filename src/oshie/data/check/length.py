"""Length checks: answers too short or too long for what the instruction asks; echoed instructions."""

from __future__ import annotations

import re
from collections.abc import Iterator

from oshie.data.check.base import Check, CheckParams, Finding, Record, Turn, register
from oshie.data.check.text import any_pattern
from oshie.ja.normalize import compact
from oshie.ja.numbers import NUMBER_CHARS, parse_number
from oshie.ja.sentences import split_sentences

# instructions that ask for an explanation or a piece of writing, so a one-liner cannot do
_ELABORATE = any_pattern([
    "説明して", "説明しなさい", "解説して", "詳しく", "理由を", "述べて", "論じて", "書いてください",
    "書いて下さい", "作成して", "考察して", "比較して", "手順を", "方法を教えて",
    "まとめて", "提案して", "具体的に", "エッセイ", "文章を書", "物語を",
])
_LIMIT_CHARS = re.compile(rf"([{NUMBER_CHARS}]+)\s*(?:文字|字)(?:以内|程度|くらい|前後|まで)")
_ONE_WORD = any_pattern(["一言で", "ひとことで", "単語で", "一語で", "はい・いいえで", "はいかいいえで", "数字だけ", "数値のみ", "答えだけ"])
_BRIEF = any_pattern(["簡潔に", "手短に", "一文で", "短く"])
# requests a word or a number answers, even when they also say 説明 ("...を抜き出して説明")
_SHORT_OK = any_pattern(["抜き出", "抽出", "分類", "どれ", "どちら", "はいかいいえ", "何個", "いくつ", "何年", "誰", "名前を"])


class LengthParams(CheckParams):
    min_chars: int = 1  # below this any answer is too short (one-kana junk is junk_answer's)
    min_chars_explained: int = 15  # ... and below this when the instruction asks for an explanation
    max_chars: int = 6000  # above this any answer is too long
    one_word_max_chars: int = 40  # "一言で" answers longer than this are too long
    brief_max_chars: int = 200  # "簡潔に" answers longer than this are too long
    limit_slack: float = 1.3  # "100文字以内" tolerates up to 130 characters


@register
class AnswerTooShort(Check[LengthParams], code="answer_too_short", severity="warning", family="length", each="turn"):
    """The answer is too short for what the instruction asks."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        n = len(t.answer.text.strip())
        if n == 0 or (n == 1 and not t.answer.text.strip().isascii()):
            return  # empty_field or junk_answer (one kana, one mark) reports it
        if n < self.params.min_chars:
            yield self.finding(record, f"answer has only {n} characters", self.span(t.answer), chars=n)
        elif n < self.params.min_chars_explained and (m := _ELABORATE.search(t.task)) \
                and not _SHORT_OK.search(t.task):
            yield self.finding(record, f"the instruction asks to '{m.group()}' but the answer has only {n} characters",
                               self.span(t.answer), chars=n, cue=m.group())


@register
class AnswerTooLong(Check[LengthParams], code="answer_too_long", severity="warning", family="length", each="turn"):
    """The answer is longer than the instruction allows (N文字以内, 一言で, 簡潔に) or than any sane answer."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        p, n = self.params, len(t.answer.text.strip())
        limit, why = p.max_chars, f"more than {p.max_chars} characters"
        if (m := _LIMIT_CHARS.search(t.task)) and (asked := parse_number(m.group(1))):
            if asked <= 300 and n >= 2.0 * asked:
                return  # word_limit_as_chars explains it: "N words" became N字
            limit, why = int(asked * p.limit_slack), f"the instruction asks for '{m.group()}'"
        elif m := _ONE_WORD.search(t.task):
            limit, why = p.one_word_max_chars, f"the instruction asks for '{m.group()}'"
        elif m := _BRIEF.search(t.task):
            limit, why = p.brief_max_chars, f"the instruction asks for '{m.group()}'"
        if n > limit:
            yield self.finding(record, f"answer has {n} characters; {why}", self.span(t.answer), chars=n, limit=limit)


class EchoParams(CheckParams):
    ngram: int = 3
    min_request_share: float = 0.8  # share of the request's n-grams the answer repeats
    max_new_chars: int = 14  # an echo adds at most this many characters of its own ...
    max_new_share: float = 0.3  # ... or this share of the answer ...
    max_new_content: int = 1  # ... and at most this many content characters (kanji, katakana, Latin, digits) the request lacks:
    # "カナダの公用語は英語とフランス語です。" restates the question politely but adds 英語, フランス語


# the polite request/question ending, stripped so "教えてください" and "教えます" match
_REQUEST_END = re.compile(r"(?:て(?:ください|下さい|くれ|ほしい|欲しい)|しなさい|なさい|ですか|ますか|でしょうか|か)?[。？?！!]*$")


def request_part(instruction: str) -> str:
    """The request sentence of an instruction (before any '：' or blank line that introduces
    the material), without its polite ending."""
    head = re.split(r"[：:]|\n", instruction.strip(), maxsplit=1)[0]
    return _REQUEST_END.sub("", compact(head))


def uncovered(answer: str, instruction: str, n: int) -> str:
    """The characters of `answer` not covered by an n-gram that also occurs in `instruction`."""
    grams = {instruction[i : i + n] for i in range(len(instruction) - n + 1)}
    covered = [False] * len(answer)
    for i in range(len(answer) - n + 1):
        if answer[i : i + n] in grams:
            covered[i : i + n] = [True] * n
    return "".join(ch for ch, c in zip(answer, covered, strict=True) if not c)


def new_characters(answer: str, instruction: str, n: int) -> int:
    """How many characters of `answer` are not covered by an n-gram that also occurs in `instruction`."""
    return len(uncovered(answer, instruction, n))


_CONTENT = re.compile(r"[一-龯々ァ-ヺA-Za-z0-9]")
# words about the exchange itself ("という質問ですね"), which answer nothing
_META = re.compile(r"質問|回答|答え|お答え|内容|ご依頼|依頼|以下|上記|次の|通り|承知|了解")


_TOPIC_SPLIT = re.compile(r"(?:とは|というのは|は)、?")


def circular_sentence(sentence: str, instruction: str, max_rest: int = 14) -> bool:
    """True for a circular definition such as 'XとはXのことです' or 'Xのこつは、Xことです', where
    X (at least two characters) comes from the instruction and little else is said."""
    from difflib import SequenceMatcher

    m = _TOPIC_SPLIT.search(sentence)
    if not m or m.start() < 2:
        return False
    subject, predicate = sentence[: m.start()], sentence[m.end() :]
    match = SequenceMatcher(None, subject, predicate, autojunk=False).find_longest_match(
        0, len(subject), 0, len(predicate)
    )
    common = subject[match.a : match.a + match.size]
    return match.size >= 2 and common in instruction and len(predicate) - match.size <= max_rest


@register
class AnswerRepeatsInstruction(Check[EchoParams], code="answer_repeats_instruction", severity="error",
                               family="length", each="turn"):
    """The answer only repeats the request (error) or restates it in a circle (warning) instead of
    answering; copying from the user's passage is not repeating the request."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        p = self.params
        # the passage is material: an extractive answer copies it, which is not an echo
        a, q = compact(t.answer.text), compact(t.task)
        request = request_part(t.task)
        if not a or len(request) < p.ngram + 2:
            return
        # summaries and rewrites reuse the *material*; an echo repeats the *request* itself
        grams = {request[i : i + p.ngram] for i in range(len(request) - p.ngram + 1)}
        repeated = sum(1 for g in grams if g in a) / len(grams)
        fresh = uncovered(a, q, p.ngram)
        new = len(fresh)
        seen = set(q)
        content = sum(1 for ch in _CONTENT.findall(_META.sub("", fresh)) if ch not in seen)
        echo = (repeated >= p.min_request_share and new <= max(p.max_new_chars, p.max_new_share * len(a))
                and content <= p.max_new_content)
        if a == q or echo:
            yield self.finding(record, f"the answer repeats the instruction ({repeated:.0%} of the request, "
                               f"only {new} new characters)", self.span(t.answer), new_chars=new)
        # "XとはXのことです": says nothing the question did not, in a circle; worth a look, not a blind drop
        elif new <= max(p.max_new_chars + 6, 0.4 * len(a)) and any(circular_sentence(s, q) for s in split_sentences(a)):
            yield self.finding(record, "the answer restates the question in a circle", self.span(t.answer),
                               severity="warning", new_chars=new)
