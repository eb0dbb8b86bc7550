"""Agreement between raters: percent agreement, Cohen's kappa (two raters), Fleiss' kappa (any
fixed number of raters per item). Kappa corrects agreement for what chance alone would give:
kappa = (observed - expected) / (1 - expected); 1 is perfect, 0 is chance level.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

import numpy as np


def percent_agreement(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Share of items on which two raters gave the same label."""
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    if not a:
        return float("nan")
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two raters' labels on the same items. Expected agreement is the sum over
    labels of the product of each rater's share of that label. When both raters always use one
    and the same label, chance agreement is 1 and kappa is undefined: NaN."""
    po = percent_agreement(a, b)
    n = len(a)
    if n == 0:
        return float("nan")
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if pe == 1:
        return float("nan")
    return (po - pe) / (1 - pe)


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa from an items x categories table of vote counts, each row summing to the
    same number of raters n >= 2.

    P_i = (sum_j n_ij^2 - n) / (n (n - 1))   agreement on item i
    p_j = sum_i n_ij / (N n)                 share of category j
    kappa = (mean P_i - sum_j p_j^2) / (1 - sum_j p_j^2)
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2 or table.shape[0] == 0:
        return float("nan")
    n = table.sum(axis=1)
    if not np.all(n == n[0]) or n[0] < 2:
        raise ValueError("every item needs the same number of raters (at least two)")
    raters = n[0]
    p_item = ((table**2).sum(axis=1) - raters) / (raters * (raters - 1))
    p_cat = table.sum(axis=0) / table.sum()
    pe = float((p_cat**2).sum())
    if pe == 1:
        return float("nan")
    return float((p_item.mean() - pe) / (1 - pe))
