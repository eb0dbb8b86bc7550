"""Document filters and normalisers on the shared filter protocol (`oshie.filters`).

A filter's `apply(doc)` returns None to keep the document or a short reason to drop it; a
normaliser returns the (possibly changed) text instead. `Compose` runs them in order, stops at
the first drop (the reason recorded on the rejected document is `code: detail`) and keeps
per-filter statistics: documents seen, hit, dropped, characters removed and time spent (the
HojiChar shape). Filters see a `DocView`, which computes the shared per-document facts (code points,
character classes, lines, sentences) once, on first use, for all the filters that need them.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from oshie.filters import Compose as BaseCompose
from oshie.filters import Filter
from oshie.ja.chars import CLASS_INDEX, class_ids
from oshie.ja.sentences import split_sentences

_JA = [CLASS_INDEX["hiragana"], CLASS_INDEX["katakana"], CLASS_INDEX["kanji"]]


class DocView:
    """One document's text plus lazily computed facts shared by the filters."""

    def __init__(self, text: str, meta: dict[str, Any] | None = None) -> None:
        self.text = text
        self.meta = meta or {}

    @cached_property
    def codes(self) -> np.ndarray:
        return np.frombuffer(self.text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)

    @cached_property
    def class_counts(self) -> np.ndarray:
        """Characters per class of `oshie.ja.chars.CHAR_CLASSES`."""
        return np.bincount(class_ids(self.codes), minlength=len(CLASS_INDEX))

    @cached_property
    def letters(self) -> int:
        """Characters other than whitespace."""
        return int(self.class_counts.sum() - self.class_counts[CLASS_INDEX["space"]])

    def ratio(self, *classes: str) -> float:
        if not self.letters:
            return 0.0
        return float(sum(int(self.class_counts[CLASS_INDEX[c]]) for c in classes)) / self.letters

    @cached_property
    def japanese_ratio(self) -> float:
        return float(self.class_counts[_JA].sum()) / self.letters if self.letters else 0.0

    @cached_property
    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.split("\n") if line.strip()]

    @cached_property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.text.split("\n\n") if p.strip()]

    @cached_property
    def sentences(self) -> list[str]:
        return split_sentences(self.text)


class DocFilter(Filter[DocView, "str | None"]):
    """Keeps or drops a document (the `oshie.filters` protocol on a `DocView`): `apply`
    returns None to keep, a short reason to drop."""

    normaliser: ClassVar[bool] = False

    def describe(self) -> dict[str, Any]:
        """The filter's settings, recorded in the manifest."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


class Normaliser(DocFilter):
    """Rewrites the text (`apply` returns the new text); a document left empty is dropped.
    Its statistics count a hit for every document it changed."""

    normaliser = True

    @abstractmethod
    def apply(self, doc: DocView) -> str:  # type: ignore[override]
        ...


STAT_KEYS = ("seen", "hits", "dropped", "chars_removed", "seconds")


class Compose(BaseCompose[DocView]):
    """Filters in order; the first drop wins and later filters do not see the document.
    Besides each filter's own statistics (seen, hits, seconds) it counts drops and the
    characters normalisers removed."""

    def __init__(self, filters: list[DocFilter]) -> None:
        super().__init__(filters)
        self.extra: dict[str, dict[str, int]] = {f.code: {"dropped": 0, "chars_removed": 0} for f in filters}

    def __call__(self, text: str, meta: dict[str, Any] | None = None) -> tuple[str, str | None]:
        """(final text, None) for a kept document; (text, "code: reason") for a dropped one."""
        view = DocView(text, meta)
        for f in self.filters:
            if not f.normaliser:  # type: ignore[attr-defined]
                reason = f(view)
                if reason is not None:
                    self.extra[f.code]["dropped"] += 1
                    return view.text, f"{f.code}: {reason}"
                continue
            st = f.stats
            t0 = time.perf_counter()
            result = f.apply(view)
            st.seconds += time.perf_counter() - t0
            st.seen += 1
            if result != view.text:
                st.hits += 1
                self.extra[f.code]["chars_removed"] += len(view.text) - len(result)
                view = DocView(result, meta)
            if not result.strip():
                self.extra[f.code]["dropped"] += 1
                return result, f"{f.code}: nothing left"
        return view.text, None

    def stats_dict(self) -> dict[str, dict[str, Any]]:
        """code -> {seen, hits, dropped, chars_removed, seconds}, in filter order."""
        return {f.code: {"seen": f.stats.seen, "hits": f.stats.hits, **self.extra[f.code],
                         "seconds": round(f.stats.seconds, 4)} for f in self.filters}


def add_stats(total: dict[str, dict[str, Any]], part: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Sum per-filter statistics (of batches or shards)."""
    for code, st in part.items():
        t = total.setdefault(code, dict.fromkeys(STAT_KEYS, 0))
        for k in STAT_KEYS:
            t[k] = t[k] + st.get(k, 0)
        t["seconds"] = round(t["seconds"], 4)
    return total
