"""Sentence splitting for Japanese (and mixed) text.

Splits after 。！？!? (and a following run of closing brackets or quotes) and at line breaks,
but never inside 「」『』（）() brackets, so quoted speech stays within its sentence.
"""

from __future__ import annotations

import re

_TERMINATORS = frozenset("。！？!?．")
_OPEN = {"「": "」", "『": "』", "（": "）", "(": ")", "【": "】", "〈": "〉", "《": "》"}
_CLOSERS = frozenset(_OPEN.values()) | frozenset("”’\"'")


_MARKS = re.compile(
    "[" + re.escape("".join(sorted(_TERMINATORS | set(_OPEN) | set(_OPEN.values())))) + "\n]"
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """`(start, end)` offsets of the sentences of `text`, surrounding whitespace excluded.

    Only the characters that can change the state (terminators, brackets, line breaks) are
    visited, found by one regular-expression scan: corpus filters call this on every document."""
    spans: list[tuple[int, int]] = []
    stack: list[str] = []
    start = 0
    skip_to = 0
    n = len(text)
    for m in _MARKS.finditer(text):
        i = m.start()
        if i < skip_to:
            continue
        ch = text[i]
        if ch in _OPEN:
            stack.append(_OPEN[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
        if ch == "\n":
            spans.append((start, i))
            stack.clear()  # an unclosed bracket never swallows the next line
            start = i + 1
        elif ch in _TERMINATORS and not stack:
            j = i + 1
            while j < n and (text[j] in _TERMINATORS or text[j] in _CLOSERS):
                j += 1
            spans.append((start, j))
            start = skip_to = j
    spans.append((start, n))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` as strings."""
    return [text[s:e] for s, e in sentence_spans(text)]
