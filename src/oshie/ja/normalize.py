"""Normalisation: NFKC, character width and whitespace.

NFKC folds full-width ASCII to half width and half-width katakana to full width, which is
what comparisons (duplicates, contamination, echo detection) want. Display text is never
normalised in place; checks compare normalised copies and report spans on the original.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "compact", "nfkc", "normalize", "normalize_whitespace", "to_fullwidth_katakana",
    "to_halfwidth_ascii",
]


_SPACES = re.compile(r"[ \t\u3000\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def nfkc(text: str) -> str:
    """Unicode NFKC only (full-width ASCII to half-width, half-width kana to full-width)."""
    return unicodedata.normalize("NFKC", text)


def to_halfwidth_ascii(text: str) -> str:
    """Full-width ASCII letters, digits and symbols (Ａ１！) to half width; kana untouched."""
    return "".join(
        chr(ord(ch) - 0xFEE0) if 0xFF01 <= ord(ch) <= 0xFF5E else (" " if ch == "\u3000" else ch)
        for ch in text
    )


def to_fullwidth_katakana(text: str) -> str:
    """Half-width katakana (ｶﾀｶﾅ, with voicing marks) to full width; everything else untouched."""
    out: list[str] = []
    for ch in text:
        if 0xFF61 <= ord(ch) <= 0xFF9F:
            if ch in "\uff9e\uff9f" and out:  # combine ﾞ ﾟ with the preceding kana
                combined = unicodedata.normalize("NFKC", out[-1] + ch)
                if len(combined) == 1:
                    out[-1] = combined
                    continue
            out.append(unicodedata.normalize("NFKC", ch))
        else:
            out.append(ch)
    return "".join(out)


def normalize_whitespace(text: str) -> str:
    """Runs of spaces (ASCII, ideographic, no-break) to one space; at most one blank line."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def normalize(text: str, *, form: str | None = "NFKC", whitespace: bool = True, lower: bool = False) -> str:
    """The comparison form of `text`: Unicode `form` (None to skip), tidy whitespace, optional lower case."""
    if form:
        text = unicodedata.normalize(form, text)
    if whitespace:
        text = normalize_whitespace(text)
    if lower:
        text = text.lower()
    return text


def compact(text: str) -> str:
    """NFKC, lower case, no whitespace at all: the key for duplicate and overlap comparisons."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())
