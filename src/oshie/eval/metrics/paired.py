"""Paired comparisons of two systems scored on the same items.

Two models evaluated on the same items differ far less in noise than two independent samples
would: item difficulty cancels out. So a difference is judged on the per-item differences:

- `paired_bootstrap_ci`: the items are resampled *jointly* (one index draws the item for
  both systems) and the percentile interval of the mean difference is taken;
- `mcnemar_exact`: for 0/1 scores (accuracy, exact match), the two-sided exact binomial test
  on the discordant items (A right / B wrong vs A wrong / B right);
- `sign_flip_p`: for continuous scores (ROUGE, F1, losses), the paired permutation test:
  under "no difference" each item's difference is as likely positive as negative, so the
  observed |sum| is compared with the sums of every sign flip (exact up to `EXACT_MAX`
  non-zero differences, Monte Carlo above);
- `holm`: Holm's step-down adjustment across the comparisons of one report, so that a
  report with many columns does not colour noise.

`compare(a, b)` picks the test from the values and returns a `PairedResult`; `mark_holm`
fills in the adjusted p-values and the verdict of a list of them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from oshie.eval.metrics.bootstrap import DEFAULT_RESAMPLES, resample_indices

ALPHA = 0.05
EXACT_MAX = 16  # sign-flip tests enumerate all 2^m flips up to this many non-zero differences
SIGN_FLIP_RESAMPLES = 20000
NO_DIFFERENCE = "no detectable difference"


def paired_bootstrap_ci(
    a: Sequence[float],
    b: Sequence[float],
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
    indices: np.ndarray | None = None,
) -> tuple[float, float]:
    """Percentile interval of mean(b - a), resampling items jointly for both systems.

    `indices` (rows of item positions) replaces the seeded draw, e.g. to check by hand."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    if d.size == 0:
        return (float("nan"), float("nan"))
    idx = indices if indices is not None else resample_indices(d.size, n_resamples, seed)
    means = d[np.asarray(idx)].mean(axis=1)
    alpha = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [alpha, 100 - alpha])
    return (float(lo), float(hi))


def mcnemar_exact(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided exact McNemar p-value for paired 0/1 outcomes."""
    a_only = sum(1 for x, y in zip(a, b, strict=True) if x and not y)
    b_only = sum(1 for x, y in zip(a, b, strict=True) if y and not x)
    n = a_only + b_only
    if n == 0:
        return 1.0
    k = min(a_only, b_only)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def sign_flip_p(
    differences: Sequence[float], n_resamples: int = SIGN_FLIP_RESAMPLES, seed: int = 0
) -> float:
    """Two-sided paired permutation (sign-flip) p-value of sum(differences) != 0.

    Exact when at most `EXACT_MAX` differences are non-zero (zeros never change a sum);
    otherwise (count + 1) / (resamples + 1) over random flips."""
    d = np.asarray([x for x in differences if x != 0], dtype=float)
    if d.size == 0:
        return 1.0
    observed = abs(d.sum())
    tol = 1e-9 * max(1.0, observed)
    if d.size <= EXACT_MAX:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=d.size)))
        sums = np.abs(signs @ d)
        return float((sums >= observed - tol).sum() / len(sums))
    rng = np.random.default_rng(seed)
    signs = rng.choice((1.0, -1.0), size=(n_resamples, d.size))
    sums = np.abs(signs @ d)
    return float(((sums >= observed - tol).sum() + 1) / (n_resamples + 1))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the input's order.

    Sorted ascending, the i-th (from 0) of m is multiplied by (m - i); the adjusted values are
    then made non-decreasing (a running maximum) and capped at 1."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def is_binary(values: Sequence[float]) -> bool:
    return all(v in (0, 1) for v in values)


@dataclass
class PairedResult:
    """B minus A on one metric over the items both were scored on."""

    metric: str
    n: int
    a: float  # mean of A
    b: float  # mean of B
    diff: float  # mean(b - a)
    ci95: tuple[float, float]
    test: str  # "mcnemar" | "sign_flip"
    p: float
    p_holm: float | None = None  # filled in by mark_holm across one report's comparisons
    significant: bool | None = None
    label: str = ""  # which two systems, e.g. "clean vs flawed"
    lower_is_better: bool = False

    @property
    def verdict(self) -> str:
        """'B better', 'A better' or NO_DIFFERENCE (after correction when it was applied)."""
        if not self.significant:
            return NO_DIFFERENCE
        better_b = (self.diff < 0) if self.lower_is_better else (self.diff > 0)
        return "B better" if better_b else "A better"

    def to_dict(self) -> dict:
        out = asdict(self)
        out["ci95"] = [self.ci95[0], self.ci95[1]]
        out["verdict"] = self.verdict
        return out


def compare(
    a: Sequence[float],
    b: Sequence[float],
    metric: str = "",
    seed: int = 0,
    n_resamples: int = DEFAULT_RESAMPLES,
    label: str = "",
    lower_is_better: bool = False,
) -> PairedResult:
    """Paired difference B - A: joint bootstrap CI plus McNemar (0/1) or sign-flip test."""
    if len(a) != len(b):
        raise ValueError(f"paired scores differ in length: {len(a)} vs {len(b)}")
    av = np.asarray(a, dtype=float)
    bv = np.asarray(b, dtype=float)
    binary = is_binary(list(av)) and is_binary(list(bv))
    p = mcnemar_exact(av, bv) if binary else sign_flip_p(bv - av, seed=seed)
    n = len(av)
    return PairedResult(
        metric=metric,
        n=n,
        a=float(av.mean()) if n else float("nan"),
        b=float(bv.mean()) if n else float("nan"),
        diff=float((bv - av).mean()) if n else float("nan"),
        ci95=paired_bootstrap_ci(av, bv, n_resamples=n_resamples, seed=seed),
        test="mcnemar" if binary else "sign_flip",
        p=p,
        label=label,
        lower_is_better=lower_is_better,
    )


def mark_holm(results: Sequence[PairedResult], alpha: float = ALPHA) -> None:
    """Holm-adjust the p-values of one report's comparisons and set each verdict."""
    for r, adj in zip(results, holm([r.p for r in results]), strict=True):
        r.p_holm = adj
        r.significant = adj < alpha
