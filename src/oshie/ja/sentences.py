"""Sentence splitting for Japanese (and mixed) text.

Splits after 。！？!? (and a following run of closing brackets or quotes) and at line breaks,
but never inside 「」『』（）() brackets, so quoted speech stays within its sentence.
"""

from __future__ import annotations

_TERMINATORS = frozenset("。！？!?．")
_OPEN = {"「": "」", "『": "』", "（": "）", "(": ")", "【": "】", "〈": "〉", "《": "》"}
_CLOSERS = frozenset(_OPEN.values()) | frozenset("”’\"'")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """`(start, end)` offsets of the sentences of `text`, surrounding whitespace excluded."""
    spans: list[tuple[int, int]] = []
    stack: list[str] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
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
            start = i = j
            continue
        i += 1
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
