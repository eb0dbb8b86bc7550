"""Morphological tokenisation (fugashi + unidic-lite), imported lazily.

Used for morpheme-level F1 and ROUGE, and by the audit to tell conjugated forms apart;
one tagger per process.
"""

from __future__ import annotations

from functools import lru_cache

from oshie.errors import require

__all__ = ["morphemes", "tagged"]


@lru_cache(maxsize=1)
def _tagger():
    fugashi = require("fugashi", "ja")
    require("unidic_lite", "ja")
    return fugashi.Tagger()


def morphemes(text: str) -> list[str]:
    """Surface forms of the morphemes of `text` (whitespace dropped)."""
    return [w.surface for w in _tagger()(text) if w.surface.strip()]


def tagged(text: str, offset: int = 0) -> list[tuple[str, str, str, int, int]]:
    """(surface, part of speech, conjugation form, start, end) of each morpheme, with
    character offsets into `text` (plus `offset`), so a match can be checked against them."""
    out = []
    pos = 0
    for w in _tagger()(text):
        start = text.find(w.surface, pos)
        if start < 0:
            continue
        pos = start + len(w.surface)
        out.append((w.surface, w.feature.pos1 or "", w.feature.cForm or "", offset + start, offset + pos))
    return out
