"""Personal information: e-mail addresses, phone numbers, postal codes, My Number, card numbers.

Numbers are validated, not just shaped: a 12-digit number is a My Number only if its check
digit is right, a card number only if it passes Luhn, so order numbers and ISBNs stay quiet.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from oshie.data.check.base import Check, CheckParams, Finding, Record, register, text_fields

PIIKind = Literal["email", "phone", "postal_code", "my_number", "card_number"]
ALL_KINDS: list[PIIKind] = ["email", "phone", "postal_code", "my_number", "card_number"]

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")
# documentation domains (RFC 2606 and the Japanese equivalents) are not anyone's address
_EXAMPLE_DOMAIN = re.compile(r"(?:^|\.)(?:example\.(?:com|org|net|jp|co\.jp)|example|test|invalid|localhost)$", re.I)
_PHONE = re.compile(
    r"(?<![\d\-])(?:"
    r"0[789]0[-\s]?\d{4}[-\s]?\d{4}"  # mobile
    r"|\+81[-\s]?\d{1,4}[-\s]?\d{1,4}[-\s]?\d{4}"  # international
    r"|0\d{1,4}-\d{1,4}-\d{4}"  # landline with hyphens
    r"|\(0\d{1,4}\)\s?\d{1,4}-\d{4}"
    r")(?![\d\-])"
)
_BUSINESS_PREFIX = ("0120", "0800", "0570", "0180", "0990")  # toll-free / navi-dial: company lines
_POSTAL = re.compile(r"(?:〒|郵便番号[はが：:\s]*)\s?(\d{3}-?\d{4})(?!\d)")
# number boundaries: no digit, hyphen or "space digit" on either side (a longer number)
_B0, _B1 = r"(?<![\d\-])(?<!\d\s)", r"(?![\d\-])(?!\s\d)"
_TWELVE = re.compile(_B0 + r"(?:\d{12}|\d{4}([-\s])\d{4}\1\d{4})" + _B1)
# 16 digits in groups of four (most cards), 4-6-5 (American Express), or 13-19 digits unbroken
_CARD = re.compile(_B0 + r"(?:\d{4}([-\s])\d{4}\1\d{4}\1\d{4}|\d{4}([-\s])\d{6}\2\d{5}|\d{13,19})" + _B1)


def my_number_valid(digits: str) -> bool:
    """True if a 12-digit string has a correct My Number (個人番号) check digit."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    body = [int(c) for c in digits[:11]]
    total = 0
    for n in range(1, 12):
        p = body[11 - n]  # n-th digit from the right of the first eleven
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    r = total % 11
    check = 0 if r <= 1 else 11 - r
    return check == int(digits[11])


def luhn_valid(digits: str) -> bool:
    """True if `digits` passes the Luhn checksum used by payment cards."""
    if not digits.isdigit():
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def find_pii(text: str, kinds: list[PIIKind] = ALL_KINDS) -> list[tuple[int, int, PIIKind]]:
    """`(start, end, kind)` of every piece of personal information in `text`."""
    found: list[tuple[int, int, PIIKind]] = []
    if "email" in kinds:
        for m in _EMAIL.finditer(text):
            if not _EXAMPLE_DOMAIN.search(m.group(1)):
                found.append((m.start(), m.end(), "email"))
    if "phone" in kinds:
        for m in _PHONE.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if not digits.startswith(_BUSINESS_PREFIX) and (len(digits) in (10, 11) or m.group().startswith("+")):
                found.append((m.start(), m.end(), "phone"))
    if "postal_code" in kinds:
        for m in _POSTAL.finditer(text):
            found.append((m.start(1), m.end(1), "postal_code"))
    if "my_number" in kinds:
        for m in _TWELVE.finditer(text):
            if my_number_valid(re.sub(r"\D", "", m.group())):
                found.append((m.start(), m.end(), "my_number"))
    if "card_number" in kinds:
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if 13 <= len(digits) <= 19 and luhn_valid(digits) and len(set(digits)) > 1:
                found.append((m.start(), m.end(), "card_number"))
    return sorted(found)


class PIIParams(CheckParams):
    kinds: list[PIIKind] = Field(default_factory=lambda: list(ALL_KINDS))


@register
class PII(Check):
    code = "pii"
    severity = "error"
    family = "safety"
    description = "Personal information: e-mail, phone number, postal code, My Number (check digit), card number (Luhn)."
    Params = PIIParams

    def apply(self, record: Record) -> list[Finding]:
        p: PIIParams = self.params  # type: ignore[assignment]
        found = []
        for f in text_fields(record):
            for start, end, kind in find_pii(f.text, p.kinds):
                found.append(self.finding(
                    record, f"personal information ({kind.replace('_', ' ')})",
                    self.span(f, start, end), kind=kind,
                ))
        return found
