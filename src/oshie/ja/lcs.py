"""Longest common subsequence and ROUGE-L F: the one fast implementation.

Used by the synthesis novelty filter (character ROUGE-L against a large pool) and by the
evaluation's ROUGE-L (characters or morphemes). The LCS runs bit-parallel (Hyyro's /
Allison-Dix recurrence) over Python big integers: one pass per pattern token, however
long the other side, and several texts side by side in one integer when they are
compared with the same pattern. The F-measure uses exactly the float operations of
`rouge_score`, so results match it bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["lcs_length", "lcs_many", "rouge_l", "rouge_l_f"]


def rouge_l_f(lcs: int, pred_len: int, target_len: int) -> float:
    """ROUGE-L F from an LCS length, as `rouge_score` computes it (same float operations)."""
    if lcs == 0 or pred_len == 0 or target_len == 0:
        return 0.0
    precision = lcs / pred_len
    recall = lcs / target_len
    return 2 * precision * recall / (precision + recall)


def lcs_length(a: Sequence[str] | str, b: Sequence[str] | str) -> int:
    """LCS length of two token sequences (bit-parallel; `a` is the bit pattern)."""
    return lcs_many(list(a), [list(b)])[0]


def lcs_many(pattern: Sequence[str], texts: Sequence[Sequence[str]]) -> list[int]:
    """LCS length of `pattern` against each of `texts`, in one bit-parallel pass.

    The texts are laid side by side in one big integer (text i occupies len(text i) bits,
    followed by a zero guard bit). The recurrence V' = (V + (V & M)) | (V & ~M) then runs
    once per pattern character for all texts together; the guard bit absorbs the carry
    out of each segment and is cleared after every step, so segments never interact.
    LCS of segment i = its length minus the ones left in its bits.
    """
    if not pattern or not texts:
        return [0] * len(texts)
    wanted = set(pattern)  # characters absent from the pattern never match: no mask
    positions: dict[str, list[int]] = {ch: [] for ch in wanted}
    offsets: list[int] = []
    pos = 0
    for text in texts:
        offsets.append(pos)
        for j, ch in enumerate(text):
            if ch in wanted:
                positions[ch].append(pos + j)
        pos += len(text) + 1  # + guard bit
    masks = {ch: _bits(ps, pos) for ch, ps in positions.items() if ps}
    ones = 0
    for text, off in zip(texts, offsets, strict=True):
        ones |= ((1 << len(text)) - 1) << off
    v = ones
    for ch in pattern:
        m = masks.get(ch)
        if m is None:
            continue  # no match anywhere: V & ~M == V, V + 0 == V
        u = v & m
        v = ((v + u) | (v & (ones ^ m))) & ones
    out = []
    for text, off in zip(texts, offsets, strict=True):
        seg = (v >> off) & ((1 << len(text)) - 1)
        out.append(len(text) - seg.bit_count())
    return out


def _bits(positions: list[int], width: int) -> int:
    """An integer with the given bits set, built in one pass (OR-ing shifted ones one by
    one would copy the growing integer each time)."""
    if len(positions) < 64:
        value = 0
        for p in positions:
            value |= 1 << p
        return value
    buf = np.zeros(width, dtype=np.uint8)
    buf[positions] = 1
    return int.from_bytes(np.packbits(buf, bitorder="little").tobytes(), "little")


def rouge_l(pred: Sequence[str], ref: Sequence[str]) -> float:
    """ROUGE-L F of two token sequences (`rouge_score`'s formula)."""
    return rouge_l_f(lcs_length(ref, pred), len(pred), len(ref))
