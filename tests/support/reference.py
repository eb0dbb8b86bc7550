"""Plain reference implementations the tests compare oshie's fast code against."""

from __future__ import annotations

from collections.abc import Sequence


def dp_lcs(a: Sequence, b: Sequence) -> int:
    """Longest common subsequence by the textbook O(n*m) table, one row at a time."""
    row = [0] * (len(b) + 1)
    for x in a:
        prev = 0
        for j, y in enumerate(b, 1):
            cur = row[j]
            row[j] = prev + 1 if x == y else max(row[j], row[j - 1])
            prev = cur
    return row[-1]
