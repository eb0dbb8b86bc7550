"""Morphological tokenisation (fugashi + unidic-lite), imported lazily.

Used for morpheme-level F1 and ROUGE; one tagger per process.
"""

from __future__ import annotations

from functools import lru_cache

from oshie.errors import require


@lru_cache(maxsize=1)
def _tagger():
    fugashi = require("fugashi", "ja")
    require("unidic_lite", "ja")
    return fugashi.Tagger()


def morphemes(text: str) -> list[str]:
    """Surface forms of the morphemes of `text` (whitespace dropped)."""
    return [w.surface for w in _tagger()(text) if w.surface.strip()]
