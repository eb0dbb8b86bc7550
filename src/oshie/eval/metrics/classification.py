"""Accuracy, balanced accuracy and macro-F1 for label-word classification (JNLI, MARC-ja)."""

from __future__ import annotations

from collections.abc import Sequence


def accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold) if gold else 0.0


def balanced_accuracy(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    """Mean per-class recall over the classes that occur in `gold`."""
    recalls = []
    for label in labels:
        idx = [i for i, g in enumerate(gold) if g == label]
        if idx:
            recalls.append(sum(pred[i] == label for i in idx) / len(idx))
    return sum(recalls) / len(recalls) if recalls else 0.0


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    """Unweighted mean of per-class F1 over `labels` (a class never gold nor predicted is skipped)."""
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0
