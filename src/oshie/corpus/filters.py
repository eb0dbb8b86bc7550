"""Document filters and normalisers: small classes with a `code` and `apply()`, composed in order.

A filter's `apply(doc)` returns None to keep the document or a short reason to drop it; a
normaliser returns the (possibly changed) text instead. `Compose` runs them in order, stops at
the first drop (the reason recorded on the rejected document is `code: detail`) and keeps
per-filter statistics: documents seen, dropped, characters removed and time spent (the HojiChar
shape). Filters see a `DocView`, which computes the shared per-document facts (code points,
character classes, lines, sentences) once, on first use, for all the filters that need them.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

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


class DocFilter(ABC):
    """Keeps or drops a document. Subclasses set `code` and implement `apply`."""

    code: ClassVar[str]
    normaliser: ClassVar[bool] = False

    @abstractmethod
    def apply(self, doc: DocView) -> Any:
        """None to keep; a short reason (str) to drop. Normalisers return the new text."""

    def describe(self) -> dict[str, Any]:
        """The filter's settings, recorded in the manifest."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


class Normaliser(DocFilter):
    """Rewrites the text; a document left empty is dropped with the reason 'empty'."""

    normaliser = True

    @abstractmethod
    def apply(self, doc: DocView) -> str: ...


@dataclass
class FilterStats:
    seen: int = 0
    dropped: int = 0
    changed: int = 0
    chars_removed: int = 0
    seconds: float = 0.0

    def add(self, other: FilterStats) -> None:
        for k in ("seen", "dropped", "changed", "chars_removed", "seconds"):
            setattr(self, k, getattr(self, k) + getattr(other, k))


@dataclass
class Compose:
    """Filters in order; the first drop wins and later filters do not see the document."""

    filters: list[DocFilter]
    stats: dict[str, FilterStats] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for f in self.filters:
            self.stats.setdefault(f.code, FilterStats())

    def __call__(self, text: str, meta: dict[str, Any] | None = None) -> tuple[str, str | None]:
        """(final text, None) for a kept document; (text, "code: reason") for a dropped one."""
        view = DocView(text, meta)
        for f in self.filters:
            st = self.stats[f.code]
            st.seen += 1
            t0 = time.perf_counter()
            result = f.apply(view)
            st.seconds += time.perf_counter() - t0
            if f.normaliser:
                if result != view.text:
                    st.changed += 1
                    st.chars_removed += len(view.text) - len(result)
                    view = DocView(result, meta)
                if not result.strip():
                    st.dropped += 1
                    return result, f"{f.code}: nothing left"
            elif result is not None:
                st.dropped += 1
                return view.text, f"{f.code}: {result}"
        return view.text, None

    def stats_dict(self) -> dict[str, dict[str, Any]]:
        return {code: {**vars(s), "seconds": round(s.seconds, 4)} for code, s in self.stats.items()}
