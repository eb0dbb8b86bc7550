"""Numbers written in kanji (三十, 二百五十, 五千二百八十, 一万二千) or digits (全角 too)."""

from __future__ import annotations

import unicodedata

__all__ = ["NUMBER_CHARS", "parse_number"]


_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "两": 2}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_LARGE = {"万": 10_000, "億": 100_000_000, "兆": 1_000_000_000_000}
NUMBER_CHARS = "0123456789０１２３４５６７８９〇一二三四五六七八九十百千万億兆"


def parse_number(text: str) -> int | None:
    """The integer `text` denotes, or None. Handles digits, kanji positional (二〇二四) and
    kanji with units (三十, 二百五十, 一万二千)."""
    t = unicodedata.normalize("NFKC", text.strip()).replace(",", "")
    if not t:
        return None
    if t.isdigit():
        return int(t)
    if all(c in _DIGITS for c in t):  # 二〇二四
        return int("".join(str(_DIGITS[c]) for c in t))
    total = section = digit = 0
    seen = False
    for c in t:
        if c in _DIGITS:
            digit, seen = _DIGITS[c], True
        elif c.isdigit():
            digit, seen = digit * 10 + int(c), True
        elif c in _SMALL:
            section += (digit or 1) * _SMALL[c]
            digit, seen = 0, True
        elif c in _LARGE:
            total += (section + digit or 1) * _LARGE[c]
            section = digit = 0
            seen = True
        else:
            return None
    return total + section + digit if seen else None
