"""Extractive-QA metrics for Japanese: exact match and F1 over morphemes or characters.

Japanese has no spaces, so SQuAD's whitespace F1 is meaningless; we count overlapping
morphemes (fugashi + unidic-lite) and, as a tokeniser-free cross-check, characters.

Normalisation comes first, segmentation after, for EM and both F1s alike: NFKC (full-width
digits and letters, half-width katakana), a dash written after katakana read as the long
vowel mark (ス－パー = スーパー), then punctuation (incl. 、。「」 and thousands
separators: 3,776 = 3776) and whitespace dropped. Two answers equal after normalisation
are then the same token sequence, so F1 >= EM always holds.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence


def _is_dropped(ch: str) -> bool:
    # punctuation (P*) and whitespace/separators (Z*, control) carry no answer content
    cat = unicodedata.category(ch)
    return cat[0] in ("P", "Z") or ch.isspace() or cat == "Cc"


# hyphens, dashes and minus signs that people type for "ー" after a katakana character
_KATAKANA_DASH = re.compile(r"(?<=[\u30a1-\u30fa\u30fc])[-\u2010-\u2015\u2212\uff70\u30fc]")


def normalize_answer(text: str) -> str:
    """NFKC, katakana dashes as "ー", then punctuation and whitespace dropped
    ("「３，７７６ メートル」。" -> "3776メートル")."""
    t = _KATAKANA_DASH.sub("ー", unicodedata.normalize("NFKC", text))
    return "".join(ch for ch in t if not _is_dropped(ch))


def char_tokens(text: str) -> list[str]:
    return list(normalize_answer(text))


def morph_tokens(text: str) -> list[str]:
    """Morphemes of the normalised text (normalising first: "3,776" and "3776" must not
    segment differently, or F1 could fall below EM)."""
    from oshie.ja.morph import morphemes

    return [m for m in morphemes(normalize_answer(text)) if m.strip()]


def token_f1(pred: Sequence[str], gold: Sequence[str]) -> float:
    """SQuAD-style F1 on token multisets; two empty sides count as a match."""
    if not pred or not gold:
        return float(list(pred) == list(gold))
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def exact_match(pred: str, golds: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals any normalised gold answer."""
    p = normalize_answer(pred)
    return float(any(p == normalize_answer(g) for g in golds))


def max_f1(pred: str, golds: Sequence[str], tokenize: Callable[[str], list[str]]) -> float:
    """Best F1 of the prediction against any gold answer."""
    pt = tokenize(pred)
    return max((token_f1(pt, tokenize(g)) for g in golds), default=0.0)


def f1_morph(pred: str, golds: Sequence[str]) -> float:
    return max_f1(pred, golds, morph_tokens)


def f1_char(pred: str, golds: Sequence[str]) -> float:
    return max_f1(pred, golds, char_tokens)
