"""Text helpers shared by checks: masking code and URLs while keeping character offsets."""

from __future__ import annotations

import re
from functools import lru_cache

_FENCED = re.compile(r"```.*?(?:```|\Z)", re.S)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_URL = re.compile(r"https?://[^\s　、。）)」』]+|www\.[^\s　、。）)」』]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PERCENT_ENCODED = re.compile(r"[\w.\-/]*(?:%[0-9A-Fa-f]{2}){2,}[\w.\-/%]*")
_QUOTED = re.compile(r"「[^「」\n]*」|『[^『』\n]*』|“[^“”\n]*”|\"[^\"\n]*\"")


def _blank(m: re.Match[str]) -> str:
    # keep newlines so line-based checks still see the same lines
    return "".join("\n" if ch == "\n" else " " for ch in m.group())


@lru_cache(maxsize=64)  # every check masks the same few fields of the record in hand
def mask_code(text: str) -> str:
    """`text` with fenced/inline code and URLs blanked out (same length, same offsets)."""
    for pattern in (_FENCED, _INLINE_CODE, _URL, _EMAIL, _PERCENT_ENCODED):
        text = pattern.sub(_blank, text)
    return text


@lru_cache(maxsize=64)
def mask_quotes(text: str) -> str:
    """`text` with quoted passages (「」『』“”) blanked out, offsets kept."""
    return _QUOTED.sub(_blank, text)


def any_pattern(words: list[str] | tuple[str, ...]) -> re.Pattern[str]:
    """One regex matching any of `words` (regex syntax allowed), longest alternatives first."""
    return re.compile("|".join(sorted(words, key=len, reverse=True)))


def katakana_words(words: list[str]) -> re.Pattern[str]:
    """Like `any_pattern`, but an alternative that ends in katakana must not run on into more
    katakana ("マイル" must not match inside "マイルストーン"), nor start right after katakana."""
    parts = []
    for w in sorted(words, key=len, reverse=True):
        head = "(?<![ァ-ヶー])" if re.match(r"[ァ-ヶ]", w) else ""
        tail = "(?![ァ-ヶー])" if re.search(r"[ァ-ヶー]$", w) else ""
        parts.append(f"{head}(?:{w}){tail}")
    return re.compile("|".join(parts))
