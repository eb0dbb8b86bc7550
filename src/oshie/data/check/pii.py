"""Personal information: e-mail addresses, phone numbers (Japanese and foreign), postal codes
and addresses, My Number, 法人番号, passport, health-insurance and bank-account numbers, cards.

Numbers are validated, not just shaped: a 12-digit number is a My Number only if its check
digit is right, a 13-digit one a 法人番号 only if its leading check digit is, a card number
only if it passes Luhn, so order numbers and ISBNs stay quiet. Account, passport and
insurance numbers need their cue word nearby. Placeholders (example.com, 090-XXXX-XXXX,
000-0000-0000) are nobody's data. Severity follows the harm: identity and money numbers and
mobile phones are errors; addresses, landlines, e-mails and 法人番号 (public) are warnings.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from oshie.data.check.base import Check, CheckParams, Finding, Record, register, text_fields, turns

PIIKind = Literal["email", "phone", "mobile_phone", "foreign_phone", "postal_code", "address", "my_number",
                  "corporate_number", "passport", "health_insurance", "bank_account", "card_number"]
ALL_KINDS: list[PIIKind] = ["email", "phone", "mobile_phone", "foreign_phone", "postal_code", "address", "my_number",
                            "corporate_number", "passport", "health_insurance", "bank_account", "card_number"]
# what a curator drops unread; the rest is worth a look
ERROR_KINDS = frozenset({"mobile_phone", "my_number", "passport", "health_insurance", "bank_account", "card_number"})

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


_FOREIGN_PHONE = re.compile(
    r"(?<![\w+])(?:\+(?:1|44|49|33|82|86|61|65|852|886)[-\s.]?\(?\d{1,4}\)?(?:[-\s.]?\d{2,4}){2,3}"
    r"|\((?!0)\d{3}\)\s?\d{3}-\d{4})(?![\d\-])"
)
_THIRTEEN = re.compile(r"(?<![\d\-])\d{13}(?![\d\-])")
_PASSPORT = re.compile(r"(?:旅券|パスポート)(?:番号)?[はがの：:\s]*([A-Z]{2}\d{7})(?![\dA-Z])")
_INSURANCE = re.compile(r"(?:保険証|被保険者|保険者番号|記号番号)[^\n]{0,12}?(\d{2,8}[-\s・]?\d{1,8})(?!\d)")
_ACCOUNT = re.compile(r"(?:口座番号|口座|普通預金|当座預金|普通|当座)[はがの：:\s]*(\d{7})(?!\d)")
_BANK_CONTEXT = re.compile(r"銀行|信用金庫|信金|支店|ゆうちょ|振込|振り込")
_ADDRESS = re.compile(
    r"(?:東京都|北海道|(?:京都|大阪)府|[一-龯]{2,3}県)[一-龯ぁ-んァ-ヶ]{1,10}?[市区町村郡][一-龯ぁ-んァ-ヶ]{0,12}"
    r"[0-9０-９一二三四五六七八九十]+(?:丁目|番地?|[-－−][0-9０-９]+)(?:[-－−]?[0-9０-９]+(?:号)?)?"
)
# placeholders: masked digits, all zeros, the classic 090-1234-5678 pattern in manuals
_PLACEHOLDER_PHONE = re.compile(r"[xX×＊*○〇]{2,}|^0\d0[-\s]?0000[-\s]?0000$|^0+[-\s0]*$")


def corporate_number_valid(digits: str) -> bool:
    """True if a 13-digit string has a correct 法人番号 check digit (the leading digit)."""
    if len(digits) != 13 or not digits.isdigit():
        return False
    body = [int(c) for c in digits[1:]]
    total = sum(d * (1 if i % 2 == 0 else 2) for i, d in enumerate(reversed(body)))
    return int(digits[0]) == 9 - total % 9


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
    want = set(kinds)
    if "email" in want:
        for m in _EMAIL.finditer(text):
            if not _EXAMPLE_DOMAIN.search(m.group(1)):
                found.append((m.start(), m.end(), "email"))
    if want & {"phone", "mobile_phone"}:
        for m in _PHONE.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if _PLACEHOLDER_PHONE.search(m.group()) or _PLACEHOLDER_PHONE.search(digits):
                continue
            if not digits.startswith(_BUSINESS_PREFIX) and (len(digits) in (10, 11) or m.group().startswith("+")):
                mobile = digits[:3] in ("070", "080", "090") or digits.startswith(("8170", "8180", "8190"))
                kind: PIIKind = "mobile_phone" if mobile else "phone"
                if kind in want:
                    found.append((m.start(), m.end(), kind))
    if "foreign_phone" in want:
        for m in _FOREIGN_PHONE.finditer(text):
            if not m.group().startswith("+81") and not re.search(r"555[-\s.]?01\d\d|[xX]{2,}", m.group()):
                found.append((m.start(), m.end(), "foreign_phone"))
    if "postal_code" in want:
        for m in _POSTAL.finditer(text):
            if m.group(1).replace("-", "") not in ("0000000", "1234567"):
                found.append((m.start(1), m.end(1), "postal_code"))
    if "address" in want:
        for m in _ADDRESS.finditer(text):
            found.append((m.start(), m.end(), "address"))
    if "my_number" in want:
        for m in _TWELVE.finditer(text):
            if my_number_valid(re.sub(r"\D", "", m.group())):
                found.append((m.start(), m.end(), "my_number"))
    if "corporate_number" in want:
        for m in _THIRTEEN.finditer(text):
            if corporate_number_valid(m.group()):
                found.append((m.start(), m.end(), "corporate_number"))
    if "passport" in want:
        for m in _PASSPORT.finditer(text):
            found.append((m.start(1), m.end(1), "passport"))
    if "health_insurance" in want:
        for m in _INSURANCE.finditer(text):
            found.append((m.start(1), m.end(1), "health_insurance"))
    if "bank_account" in want:
        for m in _ACCOUNT.finditer(text):
            if _BANK_CONTEXT.search(text[max(0, m.start() - 40) : m.end() + 20]):
                found.append((m.start(1), m.end(1), "bank_account"))
    if "card_number" in want:
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if 13 <= len(digits) <= 19 and luhn_valid(digits) and len(set(digits)) > 1:
                if not (len(digits) == 13 and corporate_number_valid(digits)):
                    found.append((m.start(), m.end(), "card_number"))
    return sorted(found)


# requests to mask or remove personal data: the user's own text holds it by design
_MASKING_TASK = re.compile(r"マスク|匿名化|伏せ字|伏せて|黒塗り|個人情報を(?:削除|除去|隠|置き換)|仮名化|墨消し")


class PIIParams(CheckParams):
    kinds: list[PIIKind] = Field(default_factory=lambda: list(ALL_KINDS))


@register
class PII(Check[PIIParams], code="pii", severity="error", family="safety"):
    """Personal information: My Number (check digit), card (Luhn), passport, insurance and bank account
    numbers, mobile phones (errors); e-mail, landline and foreign phones, addresses, 法人番号 (warnings)."""

    def apply(self, record: Record) -> list[Finding]:
        masking = {t.instruction.path for t in turns(record) if _MASKING_TASK.search(t.task)}
        found = []
        for f in text_fields(record):
            for start, end, kind in find_pii(f.text, self.params.kinds):
                found.append(self.finding(
                    record, f"personal information ({kind.replace('_', ' ')})", self.span(f, start, end), kind=kind,
                    # the material a masking task is given is a statistic, not a flag
                    severity="info" if f.path in masking else (None if kind in ERROR_KINDS else "warning"),
                ))
        return found
