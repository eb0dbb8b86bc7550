"""Speech-style detection: です・ます (polite) versus だ・である (plain), per sentence.

Decided from the sentence ending, after trailing punctuation, brackets and emoji are
stripped. Sentences ending in a noun or a fragment (体言止め, headings, list items) have no
style; only sentences with a clear ending count.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal

from oshie.ja.sentences import sentence_spans

__all__ = ["Style", "dominant_style", "prose_lines", "sentence_style", "sentence_styles"]


Style = Literal["polite", "plain"]

_TRAILING = re.compile(r"[\s。．.！!？?、,」』）)】〉》”’\"'…～〜ー—♪☆★※\U0001F300-\U0001FAFF]+$")
_POLITE = re.compile(
    r"(?:です|ます|ました|でした|ません|ませんでした|でしょう|ましょう|ください|下さい|"
    r"ございます|いたします|致します|なさい)(?:か|ね|よ|よね|かね|が|けど|けれど|のに)?$"
)
_PLAIN = re.compile(
    r"(?:だ|である|だった|であった|ではない|ではなかった|でない|じゃない|だろう|であろう|"
    r"のだ|なのだ|のである|[ぁ-ん一-龯]ない|[ぁ-ん一-龯]なかった|[っいきしちにひみりぎじびぴえけせてねへめれげぜでべぺ]た|"
    r"[っいきしちにひみりぎじびぴえけせてねへめれげぜでべぺ]だ|[いきしちにみりぎびえけせてねめれげでべ]る|"
    r"[一-龯ぁ-ん][うくすつぬむぐぶ]|する|くる|よう|しよう|いい|よい|しい|たい|かった)(?:か|ね|よ|よね|な|さ|ぞ|ぜ)?$"
)
# line shapes that carry no speech style: list items, headings, table rows, quotes
_NON_PROSE = re.compile(r"^\s*(?:[-*+・•]|\d+[.)．]|#{1,6}\s|\||>)")


_QUOTED = re.compile(r"「[^「」]*」|『[^『』]*』|（[^（）]*）|\([^()]*\)")


def sentence_style(sentence: str) -> Style | None:
    """'polite', 'plain' or None (no clear ending) for one sentence.

    Quoted passages and parentheses are removed first: an example sentence in 「」 or a note
    in （） does not set the speaker's style."""
    s = _TRAILING.sub("", _QUOTED.sub("", sentence))
    if not s:
        return None
    if _POLITE.search(s):
        return "polite"
    if _PLAIN.search(s):
        return "plain"
    return None


def prose_lines(text: str) -> list[tuple[int, str]]:
    """`(offset, line)` for lines of running prose: no code blocks, lists, headings or tables."""
    out = []
    offset = 0
    in_code = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and line.strip() and not _NON_PROSE.match(line):
            out.append((offset, line))
        offset += len(line) + 1
    return out


def sentence_styles(text: str) -> list[tuple[int, int, Style]]:
    """`(start, end, style)` of every prose sentence of `text` with a clear style."""
    found = []
    for offset, line in prose_lines(text):
        for s, e in sentence_spans(line):
            style = sentence_style(line[s:e])
            if style:
                found.append((offset + s, offset + e, style))
    return found


def dominant_style(text: str) -> Style | None:
    """The majority style of `text`'s prose, or None when no sentence has a clear one."""
    counts = Counter(style for _, _, style in sentence_styles(text))
    if not counts:
        return None
    return counts.most_common(1)[0][0]
