"""ROUGE-1/2/L F-measure over characters or morphemes (Japanese has no spaces).

With several references an item scores its best reference, as rouge-score's
`score_multi` does. The LCS is the one bit-parallel implementation in `oshie.ja.lcs`
(shared with the synthesis novelty filter).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from oshie.eval.metrics.qa import char_tokens, morph_tokens
from oshie.ja.lcs import rouge_l
from oshie.ja.lcs import rouge_l_f as _f  # rouge_score's F formula, shared by every ROUGE

TOKENIZERS: dict[str, Callable[[str], list[str]]] = {"char": char_tokens, "morph": morph_tokens}


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def rouge_n(pred: Sequence[str], ref: Sequence[str], n: int) -> float:
    pg, rg = _ngrams(pred, n), _ngrams(ref, n)
    return _f(sum((pg & rg).values()), sum(pg.values()), sum(rg.values()))


def rouge_scores(pred: str, refs: Sequence[str], unit: str = "char") -> dict[str, float]:
    """{'rouge1', 'rouge2', 'rougeL'} F-measures, best reference per metric."""
    tok = TOKENIZERS[unit]
    pt = tok(pred)
    out = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for ref in refs:
        rt = tok(ref)
        out["rouge1"] = max(out["rouge1"], rouge_n(pt, rt, 1))
        out["rouge2"] = max(out["rouge2"], rouge_n(pt, rt, 2))
        out["rougeL"] = max(out["rougeL"], rouge_l(pt, rt))
    return out
