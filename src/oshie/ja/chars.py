"""Character classes and ratios for Japanese text.

Classes are decided by Unicode block, not by a dictionary, so they are fast and total:
every character belongs to exactly one of `CHAR_CLASSES`.
"""

from __future__ import annotations

import re
from collections import Counter

CHAR_CLASSES: tuple[str, ...] = (
    "hiragana", "katakana", "kanji", "latin", "digit", "symbol", "space", "other",
)
JAPANESE_CLASSES = frozenset({"hiragana", "katakana", "kanji"})


def char_class(ch: str) -> str:
    """The class of one character (see `CHAR_CLASSES`)."""
    o = ord(ch)
    if ch.isspace():
        return "space"
    if 0x3041 <= o <= 0x309F:  # ゟ and the iteration marks ゝゞ are hiragana too
        return "hiragana"
    if 0x30A1 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F:
        # ー (U+30FC) sits in the katakana block and is used with both kana
        return "katakana"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or o in (0x3005, 0x3006, 0x3007):
        return "kanji"  # 々 〆 〇 behave as kanji in running text
    if 0x20000 <= o <= 0x2FA1F:
        return "kanji"
    if ("a" <= ch <= "z") or ("A" <= ch <= "Z") or (0xFF21 <= o <= 0xFF3A) or (0xFF41 <= o <= 0xFF5A):
        return "latin"
    if ch.isdigit():
        return "digit"
    if 0x00C0 <= o <= 0x024F:  # accented Latin letters
        return "latin"
    if not ch.isalnum():
        return "symbol"
    return "other"


def char_counts(text: str) -> Counter[str]:
    """How many characters of each class `text` has."""
    return Counter(char_class(ch) for ch in text)


def char_ratios(text: str, *, ignore_space: bool = True) -> dict[str, float]:
    """Share of each class in `text` (spaces left out of the denominator by default)."""
    counts = char_counts(text)
    if ignore_space:
        counts.pop("space", None)
    total = sum(counts.values())
    classes = [c for c in CHAR_CLASSES if not (ignore_space and c == "space")]
    return {c: (counts.get(c, 0) / total if total else 0.0) for c in classes}


def japanese_ratio(text: str, word_weight: float = 2.0) -> float:
    """Share of Japanese in `text`: kana and kanji against kana, kanji, other letters and
    Latin-alphabet *words*, each word counted as `word_weight` characters.

    A Latin word is one unit of meaning, not five or ten kana, so a question such as
    'JavaScriptでconsole.logを使う理由は？' is Japanese and 'The night is bright.' is not.
    Digits, symbols and spaces are left out: a number-heavy Japanese answer is still
    Japanese. The one measure for the audit and the synthesis filters alike.
    """
    japanese = count_japanese(text)
    latin = len(_LATIN_CHAR.findall(text))
    other = len(_LETTER.findall(text)) - len(_JAPANESE_LETTER.findall(text)) - latin
    total = japanese + max(other, 0) + word_weight * latin_word_count(text)
    return japanese / total if total else 0.0


def count_japanese(text: str) -> int:
    """How many characters of `text` are hiragana, katakana or kanji (as `char_class` says),
    counted by one regular expression: fast enough to run on every field of a large audit."""
    return len(_JAPANESE.findall(text))


_JAPANESE_RANGES = "\u3041-\u309f\u30a1-\u30ff\u31f0-\u31ff\uff66-\uff9f\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\u3005-\u3007\U00020000-\U0002fa1f"
_JAPANESE = re.compile(f"[{_JAPANESE_RANGES}]")
_JAPANESE_LETTER = re.compile(f"(?=[{_JAPANESE_RANGES}])[^\\W\\d_]")
_LETTER = re.compile(r"[^\W\d_]")


def is_japanese_char(ch: str) -> bool:
    return char_class(ch) in JAPANESE_CLASSES


# A run of Latin words: letters with inner apostrophes/hyphens, separated by spaces and light
# punctuation. Digits may sit between words ("Windows 11 and later").
# Accented letters belong to the word ("Álex" is one word, not "lex").
LATIN_LETTER = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\uff21-\uff3a\uff41-\uff5a"
_LATIN_RUN = re.compile(
    rf"[{LATIN_LETTER}][{LATIN_LETTER}'’\-]*(?:[ \t]*[,.;:!?]?[ \t]+(?:[{LATIN_LETTER}][{LATIN_LETTER}'’\-]*|\d+))*[.!?]?"
)
_WORD = re.compile(rf"[{LATIN_LETTER}][{LATIN_LETTER}'’\-]*")
_LATIN_CHAR = re.compile(f"[{LATIN_LETTER}]")


def latin_runs(text: str, min_words: int = 1) -> list[tuple[int, int, int]]:
    """Spans `(start, end, n_words)` of runs of Latin-alphabet words with at least `min_words`."""
    runs = []
    for m in _LATIN_RUN.finditer(text):
        n = len(_WORD.findall(m.group()))
        if n >= min_words:
            runs.append((m.start(), m.end(), n))
    return runs


def latin_word_count(text: str) -> int:
    return len(_WORD.findall(text))


CLASS_INDEX: dict[str, int] = {name: i for i, name in enumerate(CHAR_CLASSES)}
_TABLE: list = []


def class_table():
    """`char_class` of every BMP code point as a numpy uint8 array of `CLASS_INDEX` values
    (index 0xFFFF stands for every code point above the BMP, classed by `char_class` one by one
    where that matters: see `class_ids`). Built once, from `char_class` itself, so the vectorised
    ratios used on corpora agree with the per-character ones by construction. numpy is imported
    here, lazily: the rest of `oshie.ja` stays light."""
    if not _TABLE:
        import numpy as np

        _TABLE.append(np.array([CLASS_INDEX[char_class(chr(o))] for o in range(0x10000)], dtype=np.uint8))
    return _TABLE[0]


def class_ids(codes):
    """The class index of each code point in a numpy uint32 array (see `class_table`)."""
    import numpy as np

    ids = class_table()[np.minimum(codes, 0xFFFF)]
    astral = codes > 0xFFFF
    if astral.any():
        ids[astral] = [CLASS_INDEX[char_class(chr(int(c)))] for c in codes[astral]]
    return ids
