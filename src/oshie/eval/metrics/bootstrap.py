"""Percentile bootstrap confidence intervals over evaluation items, seeded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

DEFAULT_RESAMPLES = 1000


def resample_indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """An (n_resamples, n) matrix of item indices drawn with replacement."""
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def bootstrap_ci(
    n: int,
    statistic: Callable[[np.ndarray], float],
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """95% percentile interval of `statistic(indices)` over resampled item indices. Resamples
    on which the statistic is undefined (NaN, e.g. a kappa when every vote fell in one class)
    are left out; when all are, the interval is NaN."""
    if n == 0:
        return (float("nan"), float("nan"))
    idx = resample_indices(n, n_resamples, seed)
    stats = np.array([statistic(row) for row in idx], dtype=float)
    stats = stats[~np.isnan(stats)]
    if stats.size == 0:
        return (float("nan"), float("nan"))
    alpha = (1 - level) / 2 * 100
    lo, hi = np.percentile(stats, [alpha, 100 - alpha])
    return (float(lo), float(hi))


def mean_ci(
    values: Sequence[float],
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Bootstrap interval of a mean (vectorised: the common case for per-item scores)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return (float("nan"), float("nan"))
    means = v[resample_indices(v.size, n_resamples, seed)].mean(axis=1)
    alpha = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [alpha, 100 - alpha])
    return (float(lo), float(hi))


def metric_entry(value: float, ci95: tuple[float, float], n: int, **extra: Any) -> dict[str, Any]:
    """The one shape every metric takes in results.json."""
    return {"value": float(value), "ci95": [float(ci95[0]), float(ci95[1])], "n": int(n), **extra}


def mean_entry(values: Sequence[float], seed: int = 0, **extra: Any) -> dict[str, Any]:
    v = [float(x) for x in values]
    value = float(np.mean(v)) if v else float("nan")
    return metric_entry(value, mean_ci(v, seed=seed), len(v), **extra)
