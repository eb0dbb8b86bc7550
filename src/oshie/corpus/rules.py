"""Rule filters for Japanese web text (the Swallow and llm-jp corpus rules, as oshie defines them).

Every ratio is over the document's characters other than whitespace ("letters"), with the
character classes of `oshie.ja.chars`. Repetition rules work on character n-grams of the
text with whitespace removed: a top-n-gram fraction is (count of the most frequent n-gram × n)
/ letters; a duplicate-n-gram fraction is the share of letters covered by at least one n-gram
window that occurs more than once in the document. Duplicate paragraphs/sentences are those
equal to an earlier one; their fraction is counted by units and by characters.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable
from typing import ClassVar

import numpy as np

from oshie.corpus.filters import DocFilter, DocView
from oshie.data.minhash import mix
from oshie.ja.chars import CLASS_INDEX

_SPACE = CLASS_INDEX["space"]
_B = np.uint64(0x100000001B3)


def compact_codes(doc: DocView) -> np.ndarray:
    """The document's code points without whitespace, as uint64."""
    cached = doc.__dict__.get("_compact")
    if cached is None:
        from oshie.ja.chars import class_ids

        codes = doc.codes
        cached = codes[class_ids(codes) != _SPACE].astype(np.uint64)
        doc.__dict__["_compact"] = cached
    return cached


def ngram_hashes(codes: np.ndarray, max_n: int) -> list[np.ndarray]:
    """Hashes of every character window of length 1..max_n (index n-1), built incrementally:
    equal windows get equal hashes; distinct ones collide with probability about 2^-64."""
    out = [mix(codes * _B + np.uint64(1))]
    for n in range(2, max_n + 1):
        if len(codes) < n:
            out.append(np.zeros(0, dtype=np.uint64))
            continue
        out.append(mix(out[-1][:-1] * _B + codes[n - 1 :]))
    return out


def _ngram_facts(doc: DocView) -> list[np.ndarray]:
    cached = doc.__dict__.get("_ngrams")
    if cached is None:
        cached = ngram_hashes(compact_codes(doc), 10)
        doc.__dict__["_ngrams"] = cached
    return cached


def top_ngram_fraction(hashes: np.ndarray, n: int, letters: int) -> float:
    if not len(hashes) or not letters:
        return 0.0
    s = np.sort(hashes)
    edges = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1], [True])))
    return float(np.diff(edges).max()) * n / letters


def duplicate_ngram_fraction(hashes: np.ndarray, n: int, letters: int) -> float:
    if len(hashes) < 2 or not letters:
        return 0.0
    order = np.argsort(hashes, kind="stable")
    s = hashes[order]
    eq = s[1:] == s[:-1]
    if not eq.any():
        return 0.0
    dup = np.zeros(len(s), dtype=bool)
    dup[1:] |= eq
    dup[:-1] |= eq
    starts = order[dup]
    size = len(hashes) + n
    cover = np.cumsum(np.bincount(starts, minlength=size) - np.bincount(starts + n, minlength=size))
    return float(np.count_nonzero(cover > 0)) / letters


class MinLetters(DocFilter):
    code = "letters"

    def __init__(self, min_letters: int = 400) -> None:
        self.min_letters = min_letters

    def apply(self, doc: DocView) -> str | None:
        return f"{doc.letters} letters < {self.min_letters}" if doc.letters < self.min_letters else None


class ClassRatio(DocFilter):
    """Share of one character class (or of hiragana+katakana+kanji for 'japanese') in a band."""

    def __init__(self, code: str, classes: tuple[str, ...], minimum: float | None = None,
                 maximum: float | None = None) -> None:
        self.code = code  # type: ignore[misc]
        self.classes, self.minimum, self.maximum = classes, minimum, maximum

    def apply(self, doc: DocView) -> str | None:
        r = doc.ratio(*self.classes)
        if self.minimum is not None and r < self.minimum:
            return f"{r:.3f} < {self.minimum}"
        if self.maximum is not None and r > self.maximum:
            return f"{r:.3f} > {self.maximum}"
        return None


class SentenceLength(DocFilter):
    """Mean sentence length (characters) in a band, and no sentence longer than `max_length`."""

    code = "sentence_length"

    def __init__(self, mean_min: float = 20, mean_max: float = 90, max_length: int | None = 200) -> None:
        self.mean_min, self.mean_max, self.max_length = mean_min, mean_max, max_length

    def apply(self, doc: DocView) -> str | None:
        lengths = [len(s) for s in doc.sentences]
        if not lengths:
            return "no sentence"
        mean = sum(lengths) / len(lengths)
        if mean < self.mean_min or mean > self.mean_max:
            return f"mean {mean:.1f} outside {self.mean_min}-{self.mean_max}"
        if self.max_length is not None and max(lengths) > self.max_length:
            return f"a sentence of {max(lengths)} > {self.max_length}"
        return None


ELLIPSES = ("…", "...", "・・・", "‥")


class EllipsisLines(DocFilter):
    code = "ellipsis_lines"

    def __init__(self, max_fraction: float = 0.2) -> None:
        self.max_fraction = max_fraction

    def apply(self, doc: DocView) -> str | None:
        lines = doc.lines
        if not lines:
            return None
        frac = sum(1 for line in lines if line.endswith(ELLIPSES)) / len(lines)
        return f"{frac:.3f} > {self.max_fraction}" if frac > self.max_fraction else None


class DuplicateUnits(DocFilter):
    """Paragraphs (or sentences) equal to an earlier one: fraction by count and by characters."""

    def __init__(self, unit: str, max_fraction: float = 0.3, max_char_fraction: float = 0.2) -> None:
        self.code = f"dup_{unit}s"  # type: ignore[misc]
        self.unit, self.max_fraction, self.max_char_fraction = unit, max_fraction, max_char_fraction

    def apply(self, doc: DocView) -> str | None:
        units = doc.paragraphs if self.unit == "paragraph" else doc.sentences
        if not units:
            return None
        seen: set[str] = set()
        dup = dup_chars = total = 0
        for u in units:
            total += len(u)
            if u in seen:
                dup += 1
                dup_chars += len(u)
            else:
                seen.add(u)
        if dup / len(units) > self.max_fraction:
            return f"{dup}/{len(units)} duplicate {self.unit}s > {self.max_fraction}"
        if total and dup_chars / total > self.max_char_fraction:
            return f"{dup_chars / total:.3f} of characters in duplicate {self.unit}s > {self.max_char_fraction}"
        return None


class _NgramLimits(DocFilter):
    """Drops a document when, for some n, its `fraction` of n-grams exceeds `limits[n]`
    (checked from the smallest n up; the reason names the first one over)."""

    what: ClassVar[str]  # how the reason names the measure, e.g. "top {n}-gram"
    default_limits: ClassVar[dict[int, float]]
    fraction: ClassVar[Callable[[np.ndarray, int, int], float]]  # (hashes, n, letters)

    def __init__(self, limits: dict[int, float] | None = None) -> None:
        self.limits = limits or dict(self.default_limits)

    def apply(self, doc: DocView) -> str | None:
        letters = len(compact_codes(doc))
        hashes = _ngram_facts(doc)
        for n, limit in sorted(self.limits.items()):
            frac = self.fraction(hashes[n - 1], n, letters)
            if frac > limit:
                return f"{self.what.format(n=n)} {frac:.3f} > {limit}"
        return None


class TopNgrams(_NgramLimits):
    code = "top_ngrams"
    what = "top {n}-gram"
    default_limits: ClassVar[dict[int, float]] = {2: 0.20, 3: 0.18, 4: 0.16}
    fraction = staticmethod(top_ngram_fraction)


class DuplicateNgrams(_NgramLimits):
    code = "dup_ngrams"
    what = "duplicate {n}-grams"
    default_limits: ClassVar[dict[int, float]] = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
    fraction = staticmethod(duplicate_ngram_fraction)


class NGWords:
    """The NG-word lists the audit uses (`resources/ngwords`, plus your files) as one pattern,
    and the literal entries: a document containing none of them (a plain substring test,
    much faster than the pattern) cannot match."""

    def __init__(self, categories: Iterable[str] | None = None, extra_files: Iterable[str] = ()) -> None:
        from importlib import resources
        from pathlib import Path

        from oshie.data.check.ngwords import parse_word_list, shipped_categories

        chosen = list(categories) if categories is not None else shipped_categories()
        texts = [(resources.files("oshie").joinpath(f"resources/ngwords/{c}.txt").read_text("utf-8"), c) for c in chosen]
        texts += [(Path(f).read_text("utf-8"), f) for f in extra_files]
        lists = [parse_word_list(t, src) for t, src in texts]
        self.pattern = re.compile("|".join(f"(?:{w.pattern.pattern})" for w in lists))
        literals = [w.literals for w in lists]
        self.literals = None if any(x is None for x in literals) else sorted({e for x in literals for e in x or ()})

    def lengths(self, text: str) -> list[int]:
        """Length of each match in `text`."""
        if self.literals is not None and not any(w in text for w in self.literals):
            return []
        return [m.end() - m.start() for m in self.pattern.finditer(text)]


def ng_pattern(categories: Iterable[str] | None = None, extra_files: Iterable[str] = ()) -> NGWords:
    return NGWords(categories, extra_files)


class NGWordRatio(DocFilter):
    """Characters inside NG-word matches over letters below `max_ratio` (Swallow)."""

    code = "ng_words"

    def __init__(self, max_ratio: float = 0.05, max_hits: int | None = None,
                 pattern: NGWords | None = None) -> None:
        self.max_ratio, self.max_hits = max_ratio, max_hits
        self._words = pattern or NGWords()

    def apply(self, doc: DocView) -> str | None:
        hits = self._words.lengths(doc.text)
        if not hits:
            return None
        if self.max_hits is not None and len(hits) >= self.max_hits:
            return f"{len(hits)} NG-word hits >= {self.max_hits}"
        ratio = sum(hits) / max(doc.letters, 1)
        return f"{ratio:.3f} >= {self.max_ratio}" if ratio >= self.max_ratio else None


class CompressionRatio(DocFilter):
    """zlib-compressed size over UTF-8 size in a band: too low is repetitive, too high is noise."""

    code = "compression"

    def __init__(self, minimum: float = 0.30, maximum: float = 0.70) -> None:
        self.minimum, self.maximum = minimum, maximum

    def apply(self, doc: DocView) -> str | None:
        raw = doc.text.encode("utf-8", "surrogatepass")
        if not raw:
            return "empty"
        r = len(zlib.compress(raw)) / len(raw)
        if r < self.minimum or r > self.maximum:
            return f"ratio {r:.3f} outside {self.minimum}-{self.maximum}"
        return None
