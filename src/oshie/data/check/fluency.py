"""Unnatural text: repetition loops, repeated lines, mixed speech styles, broken Markdown."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise

from oshie.data.check.base import Check, CheckParams, Finding, Record, TextField, register
from oshie.data.check.text import mask_code
from oshie.ja.style import sentence_styles


class NgramParams(CheckParams):
    n: int = 6  # characters per n-gram
    min_repeats: int = 4  # an n-gram counts as looping when it occurs this often
    max_fraction: float = 0.3  # share of characters covered by looping n-grams
    min_chars: int = 30  # shorter answers are skipped


def _dedup_lines(text: str) -> str:
    # repeated whole lines are `repeated_lines`' job; count loops inside the remaining text only
    seen: set[str] = set()
    kept = []
    for line in text.split("\n"):
        key = line.strip()
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(line)
    return "\n".join(kept)


def duplicate_ngram_coverage(text: str, n: int, min_repeats: int = 2) -> tuple[float, str]:
    """Share of characters (whitespace ignored) inside n-grams that occur at least `min_repeats`
    times, and the most frequent n-gram (Gopher's 'duplicate n-gram fraction', on characters).
    Parallel phrasing ("AはXのように使います。BはYのように使います。") repeats twice, a topic
    word three times; loops repeat more, hence the default of four in the check."""
    chars = "".join(text.split())
    if len(chars) < n:
        return 0.0, ""
    grams = [chars[i : i + n] for i in range(len(chars) - n + 1)]
    counts = Counter(grams)
    covered = [False] * len(chars)
    for i, g in enumerate(grams):
        if counts[g] >= min_repeats:
            covered[i : i + n] = [True] * n
    top, top_count = counts.most_common(1)[0]
    return sum(covered) / len(chars), (top if top_count >= min_repeats else "")


_PHRASE_LOOP = re.compile(r"(.{2,30}?)(?:[、,，\s]*\1){3,}", re.S)


def loop_coverage(text: str) -> tuple[float, str]:
    """Share of characters (whitespace ignored) in sentences that repeat an earlier sentence
    word for word, or in a phrase repeated back to back four times or more ('とても、とても、
    とても、とても'), and the repeated piece. Parallel list items ('リンゴは果物です。バナナは
    果物です。') share phrases but are different sentences, so they do not count."""
    from oshie.ja.sentences import split_sentences

    total = len("".join(text.split()))
    if not total:
        return 0.0, ""
    seen: set[str] = set()
    looped, top = 0, ""
    for s in split_sentences(text):
        key = "".join(s.split())
        if len(key) >= 4 and key in seen:
            looped += len(key)
            top = top or s
        seen.add(key)
    chars = "".join(text.split())
    # a phrase loop leaves few distinct character pairs; natural text has many (cheap gate
    # before the backtracking search)
    if len(set(pairwise(chars))) < 0.7 * (len(chars) - 1):
        for m in _PHRASE_LOOP.finditer(text):
            looped += len("".join(m.group().split())) - len("".join(m.group(1).split()))
            top = top or m.group(1)
    return min(looped / total, 1.0), top


@register
class RepeatedNgrams(Check[NgramParams], code="repeated_ngrams", severity="warning", family="fluency", each="answer"):
    """The answer loops: the same sentence or phrase over and over (parallel list items are fine)."""

    def inspect(self, record: Record, f: TextField) -> Iterator[Finding]:
        text = mask_code(f.text)
        if len("".join(text.split())) < self.params.min_chars:
            return
        fraction, top = loop_coverage(text)
        if fraction >= self.params.max_fraction:
            start = f.text.find(top)
            yield self.finding(
                record, f"{fraction:.0%} of the answer is repeated sentences or phrases (e.g. '{top[:30]}')",
                self.span(f, start, start + len(top)) if start >= 0 else None, fraction=round(fraction, 3),
            )


class LineParams(CheckParams):
    min_chars: int = 8  # shorter lines (headings, '---') may repeat legitimately


_SYMBOLS_ONLY = re.compile(r"^[\W_]+$")
_PROSE = re.compile(r"[ぁ-ゖ]{2,}")
_LIST_ITEM = re.compile(r"^(?:[-*+・•|]|\d+[.)．、]|[（(]?\d+[）)])")


@register
class RepeatedLines(Check[LineParams], code="repeated_lines", severity="warning", family="fluency", each="answer"):
    """The same line appears more than once in an answer (code blocks are ignored)."""

    def inspect(self, record: Record, f: TextField) -> Iterator[Finding]:
        seen: dict[str, int] = {}
        offset = 0
        for line in mask_code(f.text).split("\n"):
            key = line.strip()
            # a sentence, not a label, category, name or table cell (those repeat in lists)
            if len(key) >= self.params.min_chars and not _SYMBOLS_ONLY.match(key) and _PROSE.search(key) \
                    and not _LIST_ITEM.match(key):
                if key in seen:
                    start = offset + line.find(key)
                    yield self.finding(record, f"line repeated: '{key[:40]}'", self.span(f, start, start + len(key)),
                                       first_offset=seen[key])
                    return  # one finding per answer is enough to act on
                seen[key] = offset
            offset += len(line) + 1


class StyleParams(CheckParams):
    min_sentences: int = 3  # sentences with a clear style needed before judging
    min_minority: float = 0.25  # the rarer style must make up at least this share


@register
class MixedSpeechStyle(Check[StyleParams], code="mixed_speech_style", severity="warning", family="fluency",
                       each="answer"):
    """An answer mixes です・ます and だ・である sentences."""

    def inspect(self, record: Record, f: TextField) -> Iterator[Finding]:
        styles = sentence_styles(mask_code(f.text))
        counts = Counter(s for _, _, s in styles)
        if len(styles) < self.params.min_sentences or len(counts) < 2:
            return
        minority, k = min(counts.items(), key=lambda kv: kv[1])
        if k / len(styles) >= self.params.min_minority:
            s, e, _ = next(x for x in styles if x[2] == minority)
            yield self.finding(
                record, f"mixed speech style: {counts['polite']} です・ます and {counts['plain']} だ・である sentences",
                self.span(f, s, e), polite=counts["polite"], plain=counts["plain"],
            )


_NUMBERED = re.compile(r"^(\s*)(\d+)[.)]\s+\S")
_FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_problems(text: str) -> list[tuple[int, int, str]]:
    """`(start, end, message)` for unclosed code fences and gaps in numbered lists."""
    problems = []
    offset = 0
    fence_at: int | None = None
    lists: dict[int, int] = {}  # indentation -> last number of the open list at that depth
    for line in text.split("\n"):
        if _FENCE.match(line):
            fence_at = None if fence_at is not None else offset
        elif fence_at is None:
            m = _NUMBERED.match(line)
            if m:
                indent, number = len(m.group(1)), int(m.group(2))
                for deeper in [i for i in lists if i > indent]:
                    del lists[deeper]
                prev = lists.get(indent)
                # "1. 1. 1." is valid Markdown (auto-numbering); anything else must count up by one
                if prev is not None and number != prev + 1 and not (number == 1 and prev == 1):
                    problems.append((offset, offset + len(line),
                                     f"numbered list jumps from {prev} to {number}"))
                lists[indent] = number
            elif line.strip() and not line.startswith((" ", "\t")):
                lists.clear()  # a paragraph ends every open list
        offset += len(line) + 1
    if fence_at is not None:
        problems.append((fence_at, len(text), "code fence ``` is never closed"))
    return problems


@register
class BrokenMarkdown(Check, code="broken_markdown", severity="warning", family="fluency", each="answer"):
    """Markdown that renders wrongly: an unclosed code fence or a numbered list with gaps."""

    def inspect(self, record: Record, f: TextField) -> Iterator[Finding]:
        for start, end, message in markdown_problems(f.text):
            yield self.finding(record, message, self.span(f, start, end))
