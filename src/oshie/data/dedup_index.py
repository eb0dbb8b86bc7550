"""Near-duplicate detection over a stream, in bounded memory (the audit of a 1M-record set).

The same MinHash LSH as `oshie.data.dedup` (`oshie.data.minhash`) (same shingles, signatures, bands and exact
Jaccard verification), arranged so that little stays in memory per record:

* texts arrive one at a time and are processed a chunk at a time;
* per record only its LSH band keys (32 bits each: a collision only makes a candidate,
  which the exact check then rejects), the low 8 bits of each signature value (b-bit
  MinHash: a cheap Jaccard estimate that screens candidates before the exact check), a
  64-bit hash of its comparison form (for exact duplicates) and its offset in a temporary
  spill file are kept: about 210 bytes per record with the default 96 values and 24 bands;
* the texts themselves go to the spill file on disk, and are read back only for the
  candidate pairs that need the exact Jaccard check.

`StreamingDedup(cfg).add(text)` ..., then `.result()` gives the same kind of `DedupResult`
as `find_duplicates`.
"""

from __future__ import annotations

import hashlib
import tempfile
from array import array

import numpy as np

from oshie.data.dedup import DedupConfig, DedupResult, _UnionFind, assemble_clusters, fold_variants
from oshie.data.minhash import (
    _EMPTY,
    band_keys,
    code_points,
    pairs_from_band_keys,
    shingles_of_codes,
    signatures_of_codes,
)


class StreamingDedup:
    """Add texts one by one; `result()` clusters them (indices in the order added)."""

    def __init__(self, config: DedupConfig | None = None, chunk: int = 8192) -> None:
        self.cfg = config or DedupConfig()
        self.chunk = chunk
        self._buffer: list[str] = []
        self._keys: list[np.ndarray] = []  # per chunk: (n, bands) uint32
        self._alive: list[np.ndarray] = []
        self._bbit: list[np.ndarray] = []  # per chunk: (n, num_perm) uint8
        self._exact = array("Q")
        self._offsets = array("Q", [0])
        self._spill = tempfile.TemporaryFile()

    def __len__(self) -> int:
        return len(self._exact) + len(self._buffer)

    def add(self, text: str) -> None:
        self._buffer.append(text)
        if len(self._buffer) >= self.chunk:
            self._flush()

    def _forms(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.cfg
        if cfg.normalize and cfg.fold_variants:
            texts = [fold_variants(t) for t in texts]
        return code_points(texts, cfg.normalize, cfg.ignore_punctuation)

    def _flush(self) -> None:
        texts, self._buffer = self._buffer, []
        if not texts:
            return
        codes, lengths = self._forms(texts)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        for s, n in zip(starts.tolist(), lengths.tolist(), strict=True):
            form = codes[s : s + n].tobytes()
            self._exact.append(int.from_bytes(hashlib.blake2b(form, digest_size=8).digest(), "little") if n else 0)
        sig = signatures_of_codes(codes, lengths, self.cfg.ngram, self.cfg.num_perm, self.cfg.seed)
        self._alive.append(~(sig == _EMPTY).all(axis=1))
        self._keys.append(band_keys(sig, self.cfg.bands).astype(np.uint32))
        self._bbit.append((sig & np.uint64(0xFF)).astype(np.uint8))
        for t in texts:
            data = t.encode("utf-8")
            self._spill.write(data)
            self._offsets.append(self._offsets[-1] + len(data))

    def text(self, i: int) -> str:
        """The i-th text added, read back from the spill file."""
        self._spill.seek(self._offsets[i])
        return self._spill.read(self._offsets[i + 1] - self._offsets[i]).decode("utf-8")

    def nbytes(self) -> int:
        """Memory held per record so far (keys, hashes, offsets), in bytes."""
        return sum(k.nbytes + a.nbytes + b.nbytes for k, a, b in zip(self._keys, self._alive, self._bbit, strict=True)) + \
            self._exact.itemsize * len(self._exact) + self._offsets.itemsize * len(self._offsets)

    def result(self) -> DedupResult:
        self._flush()
        cfg = self.cfg
        result = DedupResult()
        n = len(self._exact)
        if n == 0:
            return result
        uf = _UnionFind()
        edge_sim: dict[int, float] = {}
        exact = np.frombuffer(self._exact, dtype=np.uint64)
        # exact duplicates: equal 64-bit hashes of the comparison form; copies sit out the LSH
        order = np.argsort(exact, kind="stable")
        same = exact[order][1:] == exact[order][:-1]
        copies: set[int] = set()
        for k in np.flatnonzero(same & (exact[order][1:] != 0)).tolist():
            # a stable sort keeps equal hashes in input order: chain each to the one before
            first, j = int(order[k]), int(order[k + 1])
            uf.union(first, j)
            result.pairs.append((first, j, 1.0))
            copies.add(j)
        alive = np.concatenate(self._alive)
        if copies:
            alive[np.fromiter(copies, dtype=np.int64)] = False
        keys = np.concatenate(self._keys)
        bbit = np.concatenate(self._bbit)
        cache: dict[int, np.ndarray] = {}
        # one band at a time, so at most about two candidate pairs per record are in memory;
        # a pair already joined (through this or an earlier band) is not verified again
        for band in range(keys.shape[1]):
            cand = pairs_from_band_keys(keys[:, band : band + 1], alive)
            result.n_candidates += len(cand)
            if not len(cand):
                continue
            # b-bit screen: 8-bit values agree with probability J + (1 - J) / 256, so the margin
            # below the threshold (as in find_duplicates) keeps every true pair for the exact check
            keep = np.zeros(len(cand), dtype=bool)
            for s in range(0, len(cand), 8192):
                block = cand[s : s + 8192]
                keep[s : s + 8192] = (bbit[block[:, 0]] == bbit[block[:, 1]]).mean(axis=1) >= cfg.threshold - 0.2
            todo = [(x, y) for x, y in cand[keep].tolist() if uf.find(x) != uf.find(y)]
            self._verify(todo, uf, edge_sim, result, cache)
        result.clusters = assemble_clusters(uf, edge_sim, lambda m: int(exact[m]))
        return result

    def _verify(self, cand: list[tuple[int, int]], uf: _UnionFind, edge_sim: dict[int, float],
                result: DedupResult, cache: dict[int, np.ndarray]) -> None:
        """Exact Jaccard of each candidate pair on sorted unique shingle arrays (8 bytes a
        shingle, not a Python set), with a bounded number of them cached at a time."""
        cfg = self.cfg
        for start in range(0, len(cand), 4096):
            block = cand[start : start + 4096]
            need = sorted({i for pair in block for i in pair} - cache.keys())
            if need:
                codes, lengths = self._forms([self.text(i) for i in need])
                sh = shingles_of_codes(codes, lengths, cfg.ngram, cfg.seed)
                for row, i in enumerate(need):
                    cache[i] = np.unique(sh.of(row))
            for a, b in block:
                sa, sb = cache[a], cache[b]
                inter = np.intersect1d(sa, sb, assume_unique=True).size
                union = sa.size + sb.size - inter
                jac = inter / union if union else 0.0
                if jac >= cfg.threshold:
                    result.pairs.append((a, b, jac))
                    uf.union(a, b)
                    edge_sim[a] = min(edge_sim.get(a, 1.0), jac)
                    edge_sim[b] = min(edge_sim.get(b, 1.0), jac)
            if len(cache) > 20_000:
                cache.clear()

    def close(self) -> None:
        self._spill.close()
