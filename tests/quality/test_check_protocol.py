"""How a check is declared: class-statement keywords, the docstring as description, the loop over
parts that `Check.apply` runs for `inspect`, and the per-record memo of fields and turns."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from oshie.data.check import iter_checks
from oshie.data.check.base import (
    Check,
    CheckParams,
    Finding,
    Record,
    TextField,
    Turn,
    text_fields,
    turns,
)
from oshie.records import Conversation

_DIGITS = re.compile(r"\d+")


class DigitParams(CheckParams):
    min_digits: int = 1


class Digits(Check[DigitParams], code="digits", severity="warning", family="test", each="answer"):
    """Answers   with
    digits in them."""

    def inspect(self, record: Record, f: TextField) -> Iterator[Finding]:
        for m in _DIGITS.finditer(f.text):
            if len(m.group()) >= self.params.min_digits:
                yield self.finding(record, f"digits '{m.group()}'", self.span(f, *m.span()))


class FirstDigits(Digits, code="first_digits", first_only=True):
    """Only the first digits of a record."""


class LongTurn(Check, code="long_turn", severity="error", family="test", each="turn"):
    """A turn whose answer is longer than its request; a warning when only a little longer."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        extra = len(t.answer.text) - len(t.instruction.text)
        if extra > 0:
            yield self.finding(record, "long", self.span(t.answer), severity="warning" if extra < 3 else None)


def chat(*texts: str, rid: str = "r1", system: str | None = None) -> Conversation:
    messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(texts)]
    return Conversation(id=rid, system=system, messages=messages)


def test_declaration_keywords_docstring_and_params():
    assert (Digits.code, Digits.severity, Digits.family, Digits.each) == ("digits", "warning", "test", "answer")
    assert Digits.description == "Answers with digits in them."  # whitespace folded, as users read it
    assert Digits.Params is DigitParams and isinstance(Digits().params, DigitParams)
    assert Digits(DigitParams(severity="error")).level == "error"
    # a subclass inherits what it does not restate, and has its own description
    assert (FirstDigits.family, FirstDigits.Params, FirstDigits.first_only) == ("test", DigitParams, True)
    assert FirstDigits.description == "Only the first digits of a record." and not Digits.first_only
    assert Check.Params is CheckParams and LongTurn.Params is CheckParams


def test_each_answer_sees_answers_only_and_first_only_stops():
    record = chat("質問 1", "答え 22 と 333", "質問 4444", "答え 55555", system="システム 6")
    found = Digits().apply(record)
    # digits in the system prompt and in user messages are not answers
    assert [(f.message, f.span.field, f.span.text) for f in found] == [
        ("digits '22'", "messages[1].content", "22"), ("digits '333'", "messages[1].content", "333"),
        ("digits '55555'", "messages[3].content", "55555")]
    assert all(f.check == "digits" and f.severity == "warning" for f in found)
    assert [f.message for f in Digits(DigitParams(min_digits=3)).apply(record)] == ["digits '333'", "digits '55555'"]
    assert [f.message for f in FirstDigits().apply(record)] == ["digits '22'"]
    assert Digits().apply(chat("1", "なし")) == [] and FirstDigits().apply(chat("1", "なし")) == []


def test_each_turn_and_severity_of_one_finding():
    record = chat("短い", "とても長い答えです", "四文字だ", "五文字です")
    found = LongTurn().apply(record)
    assert [(f.severity, f.span.field, f.span.start, f.span.end) for f in found] == [
        ("error", "messages[1].content", 0, 9), ("warning", "messages[3].content", 0, 5)]
    # the configured level applies where the check does not grade the case itself
    assert [f.severity for f in LongTurn(CheckParams(severity="info")).apply(record)] == ["info", "warning"]


def test_a_check_without_inspect_or_apply_says_so():
    class NoBody(Check, code="no_body"):
        """Declares nothing to look at."""

    class NoInspect(Check, code="no_inspect", each="text"):
        """Looks at texts but says nothing about them."""

    with pytest.raises(NotImplementedError, match="each="):
        NoBody().apply(chat("a", "b"))
    with pytest.raises(NotImplementedError, match="no inspect"):
        NoInspect().apply(chat("a", "b"))


def test_builtin_checks_describe_themselves():
    for cls in iter_checks():
        assert cls.description and cls.description == " ".join(cls.description.split()), cls.code
        assert cls.description != Check.__doc__


def test_fields_and_turns_are_remembered_for_the_last_record_only():
    a, b = chat("質問A", "答えA"), chat("質問B", "答えB")
    assert text_fields(a) is text_fields(a) and turns(a) is turns(a)
    first = text_fields(a)
    # another record replaces the remembered one, and the first is worked out again when it comes back
    assert text_fields(b)[0].text == "質問B" and turns(b)[0].answer.text == "答えB"
    assert text_fields(a) is not first and text_fields(a) == first and turns(a)[0].answer.text == "答えA"
