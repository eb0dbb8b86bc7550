"""ROUGE-1/2/L F-measure over characters or morphemes (Japanese has no spaces).

With several references an item scores its best reference, as rouge-score's
`score_multi` does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from oshie.eval.metrics.qa import char_tokens, morph_tokens

TOKENIZERS: dict[str, Callable[[str], list[str]]] = {"char": char_tokens, "morph": morph_tokens}


def _f(overlap: int, n_pred: int, n_ref: int) -> float:
    if overlap == 0 or n_pred == 0 or n_ref == 0:
        return 0.0
    p, r = overlap / n_pred, overlap / n_ref
    return 2 * p * r / (p + r)


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def rouge_n(pred: Sequence[str], ref: Sequence[str], n: int) -> float:
    pg, rg = _ngrams(pred, n), _ngrams(ref, n)
    return _f(sum((pg & rg).values()), sum(pg.values()), sum(rg.values()))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Longest common subsequence length, O(len(a)*len(b)) time, O(len(b)) memory."""
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(pred: Sequence[str], ref: Sequence[str]) -> float:
    return _f(lcs_length(pred, ref), len(pred), len(ref))


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
