"""oshie's swallow-v1 rule filters vs the same rules run through HojiChar, on one core.

    python bench/corpus_filters.py --docs 20000

The documents are generated (oshie.corpus.synthetic: sentences of the shipped sample corpus,
half of them with one planted defect). The HojiChar side is each Swallow rule written the
plain way, as a `hojichar.Filter` (per-character Python, `collections.Counter` for n-grams),
composed with `hojichar.Compose`; it shares oshie's character classes, sentence splitter and
NG-word list so the two sides implement the same definitions. Printed: per-filter decision
agreement on every document, the composed keep/drop agreement, docs/s per core for both,
and the ratio. Needs the bench extra (hojichar).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from hojichar import Compose, Document, Filter

from oshie.corpus.filters import Compose as OshieCompose
from oshie.corpus.filters import DocView
from oshie.corpus.presets import CleanConfig, SwallowRules, swallow_filters
from oshie.corpus.rules import ELLIPSES, ng_pattern
from oshie.corpus.synthetic import documents
from oshie.ja.chars import char_class
from oshie.ja.sentences import split_sentences

R = SwallowRules()


def _counts(doc: Document) -> Counter:
    if "counts" not in doc.extras:
        doc.extras["counts"] = Counter(char_class(ch) for ch in doc.text)
    return doc.extras["counts"]


def _letters(doc: Document) -> int:
    c = _counts(doc)
    return sum(c.values()) - c.get("space", 0)


def _compact(doc: Document) -> str:
    if "compact" not in doc.extras:
        doc.extras["compact"] = "".join(ch for ch in doc.text if not ch.isspace())
    return doc.extras["compact"]


class Letters(Filter):
    def apply(self, doc: Document) -> Document:
        doc.is_rejected = _letters(doc) < R.min_letters
        return doc


class Ratio(Filter):
    def __init__(self, classes: tuple[str, ...], lo: float | None, hi: float | None) -> None:
        super().__init__()
        self.classes, self.lo, self.hi = classes, lo, hi

    def apply(self, doc: Document) -> Document:
        n = _letters(doc)
        r = sum(_counts(doc).get(c, 0) for c in self.classes) / n if n else 0.0
        doc.is_rejected = (self.lo is not None and r < self.lo) or (self.hi is not None and r > self.hi)
        return doc


class NGWords(Filter):
    def __init__(self) -> None:
        super().__init__()
        self.pattern = ng_pattern().pattern

    def apply(self, doc: Document) -> Document:
        hit = sum(len(m.group()) for m in self.pattern.finditer(doc.text))
        doc.is_rejected = hit > 0 and hit / max(_letters(doc), 1) >= R.max_ng_ratio
        return doc


class Ellipsis(Filter):
    def apply(self, doc: Document) -> Document:
        lines = [line.strip() for line in doc.text.split("\n") if line.strip()]
        doc.is_rejected = bool(lines) and sum(line.endswith(ELLIPSES) for line in lines) / len(lines) > R.max_ellipsis_lines
        return doc


class SentenceLen(Filter):
    def apply(self, doc: Document) -> Document:
        lengths = [len(s) for s in split_sentences(doc.text)]
        if not lengths:
            doc.is_rejected = True
            return doc
        mean = sum(lengths) / len(lengths)
        doc.is_rejected = not (R.sentence_mean_min <= mean <= R.sentence_mean_max) or max(lengths) > R.sentence_max
        return doc


class DupUnits(Filter):
    def __init__(self, unit: str, frac: float, char_frac: float) -> None:
        super().__init__()
        self.unit, self.frac, self.char_frac = unit, frac, char_frac

    def apply(self, doc: Document) -> Document:
        if self.unit == "paragraph":
            units = [p.strip() for p in doc.text.split("\n\n") if p.strip()]
        else:
            units = split_sentences(doc.text)
        seen, dup, dup_chars = set(), 0, 0
        for u in units:
            if u in seen:
                dup, dup_chars = dup + 1, dup_chars + len(u)
            seen.add(u)
        total = sum(len(u) for u in units)
        doc.is_rejected = bool(units) and (dup / len(units) > self.frac or (total > 0 and dup_chars / total > self.char_frac))
        return doc


class TopNgram(Filter):
    def apply(self, doc: Document) -> Document:
        t = _compact(doc)
        for n, limit in sorted(R.top_ngrams.items()):
            grams = Counter(t[i : i + n] for i in range(len(t) - n + 1))
            if grams and max(grams.values()) * n / len(t) > limit:
                doc.is_rejected = True
                break
        return doc


class DupNgram(Filter):
    def apply(self, doc: Document) -> Document:
        t = _compact(doc)
        for n, limit in sorted(R.dup_ngrams.items()):
            grams = Counter(t[i : i + n] for i in range(len(t) - n + 1))
            covered = set()
            for i in range(len(t) - n + 1):
                if grams[t[i : i + n]] > 1:
                    covered.update(range(i, i + n))
            if t and len(covered) / len(t) > limit:
                doc.is_rejected = True
                break
        return doc


def hojichar_filters() -> list[Filter]:
    """In the order of oshie's swallow-v1."""
    return [
        Letters(), Ratio(("hiragana", "katakana", "kanji"), R.min_japanese, None), Ratio(("hiragana",), R.min_hiragana, None),
        Ratio(("katakana",), None, R.max_katakana), NGWords(), Ellipsis(), SentenceLen(),
        DupUnits("paragraph", R.max_dup_paragraphs, R.max_dup_paragraph_chars),
        DupUnits("sentence", R.max_dup_sentences, R.max_dup_sentence_chars), TopNgram(), DupNgram(),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    texts = [t for t, _ in documents(args.docs, seed=args.seed)]
    print(f"{len(texts)} generated documents, mean {sum(map(len, texts)) / len(texts):.0f} characters")
    ours = swallow_filters(R, CleanConfig().ng_words)
    theirs = hojichar_filters()

    pipeline = OshieCompose(ours)
    t0 = time.perf_counter()
    keep_ours = [pipeline(t)[1] is None for t in texts]
    t_ours = time.perf_counter() - t0
    reference = Compose(theirs)
    t0 = time.perf_counter()
    keep_theirs = [not reference.apply(Document(t)).is_rejected for t in texts]
    t_theirs = time.perf_counter() - t0
    overall = sum(x != y for x, y in zip(keep_ours, keep_theirs, strict=True))
    print(f"composed: oshie keeps {sum(keep_ours)}, hojichar keeps {sum(keep_theirs)}, disagree on {overall}")
    r_ours, r_theirs = len(texts) / t_ours, len(texts) / t_theirs
    print(f"docs/s per core: oshie {r_ours:,.0f}   hojichar {r_theirs:,.0f}   ratio {r_ours / r_theirs:.2f}x")
    mismatches = 0
    print(f"{'filter':16} {'oshie drops':>11} {'hojichar drops':>14} {'disagree':>9}")
    for f, h in zip(ours, theirs, strict=True):
        a = [f.apply(DocView(t)) is not None for t in texts]
        b = [h.apply(Document(t)).is_rejected for t in texts]
        bad = sum(x != y for x, y in zip(a, b, strict=True))
        mismatches += bad
        print(f"{f.code:16} {sum(a):>11} {sum(b):>14} {bad:>9}")

    if mismatches or overall:
        sys.exit(1)


if __name__ == "__main__":
    main()
