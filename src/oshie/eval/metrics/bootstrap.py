"""Percentile bootstrap confidence intervals over evaluation items, seeded."""

from __future__ import annotations

import math
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


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def metric_entry(value: float | None, ci95: tuple[float, float], n: int, **extra: Any) -> dict[str, Any]:
    """The one shape every metric takes in results.json. Strict JSON: a value that is not
    a finite number (nothing to average) is null, and the note says why."""
    entry = {"value": _finite(value), "ci95": [_finite(ci95[0]), _finite(ci95[1])], "n": int(n),
             **extra}
    if entry["value"] is None:
        why = "no items to measure: value is null"
        entry["note"] = f"{entry['note']}; {why}" if entry.get("note") else why
    return entry


def mean_entry(values: Sequence[float], seed: int = 0, **extra: Any) -> dict[str, Any]:
    v = [float(x) for x in values]
    value = float(np.mean(v)) if v else None
    return metric_entry(value, mean_ci(v, seed=seed), len(v), **extra)
