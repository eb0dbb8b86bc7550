"""Novelty filter: drop an instruction too similar (ROUGE-L F on characters) to the pool.

Self-Instruct keeps a candidate only if its ROUGE-L F against every instruction already
in the pool is at most a threshold (0.7). Word-level ROUGE is meaningless for Japanese
(no spaces), so oshie scores characters. Comparing a candidate against a 10k pool with a
plain LCS table is far too slow, so each check runs in three stages:

1. an upper bound on the LCS of every pool item at once (numpy): the LCS can never exceed
   the multiset intersection of the two strings' characters (sum of per-character minimum
   counts), nor the shorter length;
2. the survivors' exact LCS in one bit-parallel pass (`oshie.ja.lcs.lcs_many`, shared
   with the evaluation's ROUGE-L);
3. the F-measure computed with exactly the same float expression as `rouge_score`, so
   keep/drop decisions match the reference bit for bit.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass

import numpy as np

from oshie.ja.lcs import lcs_many, rouge_l_f

DEFAULT_THRESHOLD = 0.7
# counts are stored as uint8; a character repeated more often than this disables pruning
_COUNT_CAP = 255
_FIRST_CHUNK = 16  # survivors scored exactly in the first bit-parallel pass


def char_tokens(text: str) -> list[str]:
    """The tokens novelty is measured on: NFKC-normalised characters without whitespace."""
    return [c for c in unicodedata.normalize("NFKC", text) if not c.isspace()]


@dataclass
class NoveltyResult:
    novel: bool
    # highest exact ROUGE-L F found: over every pool item that could exceed the threshold
    # when novel; when not, over those scored until one exceeded it (0.0 if none could)
    max_score: float
    nearest: int | None  # pool index of the most similar instruction


class NoveltyFilter:
    """A growing pool of instructions; `offer` keeps a candidate only if it is novel.

    >>> f = NoveltyFilter(threshold=0.7)
    >>> f.add("日本の首都について説明してください。")
    >>> f.offer("日本の首都について説明して下さい。").novel
    False
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be between 0 and 1")
        self.threshold = threshold
        self.texts: list[str] = []
        self._tokens: list[list[str]] = []
        self._vocab: dict[str, int] = {}
        self._lens = np.zeros(64, dtype=np.int32)
        # character-major count matrix: row = character id, column = pool item
        self._counts = np.zeros((256, 64), dtype=np.uint8)

    def __len__(self) -> int:
        return len(self.texts)

    def _ids(self, tokens: list[str], grow: bool) -> tuple[np.ndarray, np.ndarray, bool]:
        """Distinct character ids of `tokens` and their counts (capped); unknown ids are -1."""
        counter = Counter(tokens)
        ids = np.empty(len(counter), dtype=np.int64)
        counts = np.empty(len(counter), dtype=np.uint8)
        capped = False
        for k, (ch, n) in enumerate(counter.items()):
            cid = self._vocab.get(ch, -1)
            if cid < 0 and grow:
                cid = self._vocab[ch] = len(self._vocab)
            ids[k] = cid
            counts[k] = min(n, _COUNT_CAP)
            capped |= n >= _COUNT_CAP
        return ids, counts, capped

    def add(self, text: str) -> None:
        """Put `text` in the pool unconditionally (e.g. the human seed instructions)."""
        tokens = char_tokens(text)
        ids, counts, _ = self._ids(tokens, grow=True)
        n = len(self.texts)
        rows, cols = self._counts.shape
        if len(self._vocab) > rows or n >= cols:
            grown = np.zeros((max(rows, 2 * len(self._vocab)), cols * 2 if n >= cols else cols),
                             dtype=np.uint8)
            grown[:rows, :cols] = self._counts
            self._counts = grown
        if n >= len(self._lens):
            self._lens = np.concatenate([self._lens, np.zeros_like(self._lens)])
        self._counts[ids, n] = counts
        self._lens[n] = len(tokens)
        self.texts.append(text)
        self._tokens.append(tokens)

    def extend(self, texts: list[str]) -> None:
        for t in texts:
            self.add(t)

    def check(self, text: str) -> NoveltyResult:
        """Score `text` against the pool without adding it."""
        tokens = char_tokens(text)
        n_pool = len(self.texts)
        m = len(tokens)
        if n_pool == 0 or m == 0:
            return NoveltyResult(True, 0.0, None)
        lens = self._lens[:n_pool].astype(np.int64)
        ids, counts, capped = self._ids(tokens, grow=False)
        known = ids >= 0
        if capped:
            bound = np.minimum(lens, m)
        elif known.any():
            rows = self._counts[ids[known], :n_pool]
            bound = np.minimum(rows, counts[known, None]).sum(axis=0, dtype=np.int32)
        else:
            bound = np.zeros(n_pool, dtype=np.int64)
        # F <= 2*bound/(m+n); keep a hair of slack so float rounding never prunes a hit
        upper = 2.0 * bound / (m + lens)
        survivors = np.flatnonzero(upper > self.threshold - 1e-9)
        if survivors.size == 0:
            return NoveltyResult(True, 0.0, None)
        # most promising first, in growing chunks: a near-copy is usually found in the
        # first chunk, so a dropped candidate rarely pays for all its survivors
        order = survivors[np.argsort(-upper[survivors], kind="stable")].tolist()
        best, best_i = -1.0, None
        start, size = 0, _FIRST_CHUNK
        while start < len(order):
            chunk = order[start:start + size]
            lcs = lcs_many(tokens, [self._tokens[i] for i in chunk])
            for i, length in zip(chunk, lcs, strict=True):
                f = rouge_l_f(length, m, len(self._tokens[i]))
                if f > best:
                    best, best_i = f, i
            if best > self.threshold:
                break
            start, size = start + size, size * 4
        return NoveltyResult(best <= self.threshold, best, best_i)

    def offer(self, text: str) -> NoveltyResult:
        """Check `text`; add it to the pool if it is novel."""
        result = self.check(text)
        if result.novel:
            self.add(text)
        return result
