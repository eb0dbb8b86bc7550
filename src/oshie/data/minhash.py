"""MinHash / LSH core shared by the instruction-data audit and corpus-scale dedup.

Shingle hashing, one-permutation MinHash signatures, LSH band keys and in-memory candidate
pairs, all vectorised in numpy (see `oshie.data.dedup` for how they fit together and why
they are fast). `oshie.data.dedup` clusters a dataset in memory with them; `oshie.corpus.dedup`
writes band keys to disk partitions so a corpus of any size is deduplicated in bounded memory.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_BASE = np.uint64(0x100000001B3)
_EMPTY = np.iinfo(np.uint64).max


_CHUNK = 1 << 15  # elements per in-place pass: a few arrays of this size stay in the CPU cache


def mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads every input bit over the whole word."""
    h = (h ^ (h >> np.uint64(30))) * _M1
    h = (h ^ (h >> np.uint64(27))) * _M2
    return h ^ (h >> np.uint64(31))


def mix_inplace(h: np.ndarray) -> np.ndarray:
    """`mix` of a contiguous uint64 array, overwriting it, a cache-sized piece at a time: the
    same values, about twice as fast on large arrays (no temporaries travel to memory)."""
    if not h.flags.c_contiguous:
        raise ValueError("mix_inplace needs a contiguous array")
    flat = h.reshape(-1)
    tmp = np.empty(min(_CHUNK, len(flat)), dtype=np.uint64)
    for s in range(0, len(flat), _CHUNK):
        x = flat[s : s + _CHUNK]
        t = tmp[: len(x)]
        np.right_shift(x, np.uint64(30), out=t)
        x ^= t
        x *= _M1
        np.right_shift(x, np.uint64(27), out=t)
        x ^= t
        x *= _M2
        np.right_shift(x, np.uint64(31), out=t)
        x ^= t
    return h


@dataclass
class Shingles:
    """Hashes of every text's shingles; text i owns hashes[starts[i] : starts[i] + counts[i]].

    `hashes` holds one hash per window of the concatenated code points, so a text's windows
    are contiguous and the windows that straddle two texts simply belong to nobody."""

    hashes: np.ndarray
    starts: np.ndarray
    counts: np.ndarray
    owner: np.ndarray  # per hash: the owning text, or len(starts) for straddling windows

    def of(self, i: int) -> np.ndarray:
        return self.hashes[self.starts[i] : self.starts[i] + self.counts[i]]


# one class per BMP code point, looked up with a single gather instead of many comparisons
_STABLE, _ODD, _SPACE, _FULLWIDTH, _UPPER, _PUNCT = 0, 1, 2, 3, 4, 5


def _class_table() -> np.ndarray:
    t = np.full(0x10000, _ODD, dtype=np.uint8)
    # ranges NFKC leaves alone: ASCII, CJK punctuation and brackets, kana without the
    # combining/spacing voicing marks, kanji; everything else goes through unicodedata
    for lo, hi in [(0x00, 0x7F), (0x3001, 0x3035), (0x3041, 0x3096), (0x309D, 0x309E),
                   (0x30A0, 0x30FE), (0x4E00, 0x9FFF)]:
        t[lo : hi + 1] = _STABLE
    t[0xFF01:0xFF5F] = _FULLWIDTH  # NFKC of full-width ASCII is a fixed offset
    t[ord("A") : ord("Z") + 1] = _UPPER
    t[[9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x3000]] = _SPACE
    t[0xFFFF] = _ODD  # stands for every code point above the BMP
    ascii_punct = [ord(c) for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"]
    t[ascii_punct] = _PUNCT
    t[[0x3001, 0x3002, 0x3003, 0x30FB, 0x300C, 0x300D, 0x300E, 0x300F,
       0x3010, 0x3011, 0x3014, 0x3015, 0x301C, 0x301D, 0x301F]] = _PUNCT
    return t


_CLASS = _class_table()


def code_points(texts: Sequence[str], fold: bool, drop_punct: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """All texts as one uint32 code-point array, and each text's length in it.

    With `fold` the comparison form is built: NFKC, ASCII lower case, no whitespace. NFKC
    runs in Python only on the few texts with characters NFKC would change other than
    full-width ASCII; the rest is folded in numpy (str methods are slow on kana)."""
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).copy()
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    if not fold or not len(codes):
        return codes, lengths
    cls = _CLASS[np.minimum(codes, 0xFFFF)]
    odd = cls == _ODD
    if odd.any():
        owner = np.repeat(np.arange(len(texts)), lengths)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        pieces, prev = [], 0
        for i in np.unique(owner[odd]).tolist():
            fixed = unicodedata.normalize("NFKC", texts[i]).lower()
            pieces += [codes[prev : starts[i]], np.frombuffer(fixed.encode("utf-32-le"), dtype=np.uint32)]
            prev = starts[i] + lengths[i]
            lengths[i] = len(fixed)
        codes = np.concatenate([*pieces, codes[prev:]])
        cls = _CLASS[np.minimum(codes, 0xFFFF)]
    codes[cls == _FULLWIDTH] -= 0xFEE0
    codes[(cls == _UPPER) | ((codes >= 65) & (codes <= 90))] += 32  # folded full-width capitals too
    if drop_punct:
        # re-classify: full-width punctuation became ASCII punctuation above
        keep = (cls != _SPACE) & (_CLASS[np.minimum(codes, 0xFFFF)] != _PUNCT)
    else:
        keep = cls != _SPACE
    if not keep.all():
        owner = np.repeat(np.arange(len(texts)), lengths)
        lengths = np.bincount(owner[keep], minlength=len(texts)).astype(np.int64)
        codes = codes[keep]
    return codes, lengths


def _rolling(codes: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Hash of every window of n code points (polynomial, then splitmix64), built in place in
    the output a cache-sized piece at a time."""
    width = max(len(codes) - n + 1, 0)
    out = np.empty(width, dtype=np.uint64)
    start = np.uint64(seed * int(_M2) * int(_BASE) % 2**64)  # the seed folded into the first step
    for s in range(0, width, _CHUNK):
        h = out[s : s + _CHUNK]
        w = len(h)
        h[:] = codes[s : s + w]
        h += start
        for k in range(1, n):
            h *= _BASE
            h += codes[s + k : s + k + w]
    return mix_inplace(out)


def shingles_of_codes(codes: np.ndarray, lengths: np.ndarray, n: int, seed: int = 1) -> Shingles:
    """Shingle hashes from concatenated code points (see `code_points`)."""
    n_docs = len(lengths)
    hashes = _rolling(codes, n, seed)
    starts = np.zeros(n_docs, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    counts = np.maximum(lengths - n + 1, 0)
    owner = np.repeat(np.arange(n_docs, dtype=np.uint64), lengths)[: len(hashes)]
    # the last n-1 windows of each text run into the next one: nobody owns them
    tails = (starts + counts)[:, None] + np.arange(n - 1)[None, :]
    tails = tails[(tails < (starts + lengths)[:, None]) & (tails < len(hashes))]
    owner[tails] = n_docs
    short = np.flatnonzero((lengths > 0) & (lengths < n))
    if len(short):
        # texts shorter than a shingle hash whole, zero-padded, appended after the windows
        padded = np.zeros((len(short), n), dtype=np.uint64)
        for row, i in enumerate(short.tolist()):
            padded[row, : lengths[i]] = codes[starts[i] : starts[i] + lengths[i]]
        h = np.full(len(short), np.uint64(seed * int(_M2) % 2**64), dtype=np.uint64)
        for k in range(n):
            h = h * _BASE + padded[:, k]
        starts[short] = len(hashes) + np.arange(len(short))
        counts[short] = 1
        hashes = np.concatenate([hashes, mix(h)])
        owner = np.concatenate([owner, short.astype(np.uint64)])
    return Shingles(hashes, starts, counts, owner)


def signatures(sh: Shingles, num_perm: int, skip: np.ndarray | None = None) -> np.ndarray:
    """One-permutation MinHash signatures with rotation densification, shape (texts, num_perm).

    Texts without shingles (empty) or listed in `skip` get an all-empty row and match nothing.
    Each hash is split into a bin (low bits) and a 32-bit value (high bits); the minimum per
    (text, bin) is one unbuffered `np.minimum.at` scatter, a chunk of hashes at a time. Hashes
    nobody owns (and those of skipped texts) land in one extra row that is cut off afterwards,
    so nothing has to be filtered out first."""
    n_docs = len(sh.starts)
    owner = sh.owner
    if skip is not None and len(skip):
        owner = owner.copy()
        owner[np.isin(owner, skip.astype(np.uint64))] = n_docs
    sig = np.full((n_docs + 1) * num_perm, _EMPTY, dtype=np.uint64)
    k = np.uint64(num_perm)
    power_of_two = num_perm & (num_perm - 1) == 0
    chunk = 1 << 20
    for s in range(0, len(sh.hashes), chunk):
        h = sh.hashes[s : s + chunk]
        slot = h & (k - np.uint64(1)) if power_of_two else h % k
        slot += owner[s : s + chunk] * k
        np.minimum.at(sig, slot.view(np.int64), h >> np.uint64(32))
    sig = sig[: n_docs * num_perm].reshape(n_docs, num_perm)
    _densify(sig)
    return sig


def signatures_of_codes(codes: np.ndarray, lengths: np.ndarray, ngram: int, num_perm: int,
                        seed: int = 1, block: int = 512) -> np.ndarray:
    """`signatures(shingles_of_codes(codes, lengths, ngram, seed), num_perm)` for callers that
    need no shingles afterwards: the same values, computed `block` texts at a time so that every
    temporary stays in the CPU cache (faster, and memory does not grow with the batch)."""
    out = np.empty((len(lengths), num_perm), dtype=np.uint64)
    ends = np.cumsum(lengths)
    lo = 0
    for b in range(0, len(lengths), block):
        hi = int(ends[min(b + block, len(lengths)) - 1])
        out[b : b + block] = signatures(shingles_of_codes(codes[lo:hi], lengths[b : b + block], ngram, seed), num_perm)
        lo = hi
    return out


def _densify(sig: np.ndarray) -> None:
    """Rotation densification, in place: an empty bin takes the value of the next genuine
    (non-empty before densification) bin to its right, cyclically, mixed with the distance so it
    never equals a genuine value. Rows with no value at all stay empty.

    Vectorised over the whole array read as one row, without data-dependent branches (masked
    assignment and running minima are slow on a mask this irregular): every genuine bin is
    repeated once per empty bin just before it, which gives each empty bin the next genuine
    position; where that lies past its row's end the row wraps round to its first genuine bin."""
    k = sig.shape[1]
    flat = sig.reshape(-1)
    empty = flat == _EMPTY
    genuine = np.flatnonzero(~empty)
    if len(genuine) in (0, flat.size):
        return
    hole = np.flatnonzero(empty)
    before = np.diff(genuine, prepend=-1)
    before -= 1  # empty bins just before each genuine one
    donor = np.repeat(genuine, before)  # the holes after the last genuine bin get none yet
    donor = np.concatenate([donor, np.full(len(hole) - len(donor), 2 * flat.size, dtype=np.int64)])
    row_start = hole & ~(k - 1) if k & (k - 1) == 0 else hole - hole % k
    wrap = np.flatnonzero(donor >= row_start + k)
    if len(wrap):
        starts = row_start[wrap]
        donor[wrap] = genuine[np.minimum(np.searchsorted(genuine, starts), len(genuine) - 1)]
    dist = donor - hole
    if len(wrap):
        dist[wrap] += k
        first = donor[wrap]
        dead = (first < starts) | (first >= starts + k)  # a row without genuine bins stays empty
        if dead.any():
            live = np.ones(len(hole), dtype=bool)
            live[wrap[dead]] = False
            hole, donor, dist = hole[live], donor[live], dist[live]
    value = flat.take(donor)
    value += dist.view(np.uint64)
    flat[hole] = mix_inplace(value)


def band_keys(sig: np.ndarray, bands: int) -> np.ndarray:
    """A 64-bit key per (record, band): equal keys mean equal band rows (up to 2^-64).
    Built in place a block of records at a time, so the work stays in the CPU cache."""
    n, k = sig.shape
    rows = sig.reshape(n, bands, k // bands)
    key = np.zeros((n, bands), dtype=np.uint64)
    step = max(_CHUNK // bands, 1)
    for s in range(0, n, step):
        block = key[s : s + step]
        for j in range(rows.shape[2]):
            block *= _BASE
            block += rows[s : s + step, :, j]
            mix_inplace(block)
    return key


def candidate_pairs(sig: np.ndarray, bands: int) -> np.ndarray:
    """Unique record pairs (i < j) sharing at least one band bucket, shape (m, 2)."""
    return pairs_from_band_keys(band_keys(sig, bands), ~(sig == _EMPTY).all(axis=1))


def pairs_from_band_keys(keys: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Unique pairs (i < j) of `alive` records with an equal key in some band (column of
    `keys`); the keys may be stored narrower than 64 bits, a collision only adds a candidate."""
    found: list[np.ndarray] = []
    idx = np.flatnonzero(alive)
    for b in range(keys.shape[1]):
        col = keys[idx, b]
        order = np.argsort(col, kind="stable")
        sorted_keys, members = col[order], idx[order]
        same = sorted_keys[1:] == sorted_keys[:-1]
        if not same.any():
            continue
        # runs of equal keys are buckets; pair each member with the bucket's first one (star)
        # and with its neighbour (chain): linear in bucket size, so boilerplate can't explode it
        run_start = np.flatnonzero(np.concatenate(([True], ~same)))
        first = np.repeat(members[run_start], np.diff(np.append(run_start, len(members))))
        found.append(np.stack([first, members], axis=1))
        found.append(np.stack([members[:-1][same], members[1:][same]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    a, b = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    n = np.int64(len(keys))
    code = np.unique((a * n + b)[a != b])  # one int64 per pair: a 1-D unique, not a row unique
    return np.stack([code // n, code % n], axis=1)


def candidate_probability(jaccard: float, bands: int, rows: int) -> float:
    """P(a pair of this Jaccard similarity shares at least one band) = 1 - (1 - j^r)^b."""
    return 1.0 - (1.0 - jaccard**rows) ** bands


def bands_for(threshold: float, num_perm: int, recall: float = 0.99) -> int:
    """The number of bands (a divisor of `num_perm`) with the most rows per band that still
    makes a pair at `threshold` a candidate with probability >= `recall`: more rows mean
    fewer chance candidates, so less verification work."""
    best = num_perm
    for bands in range(1, num_perm + 1):
        if num_perm % bands:
            continue
        if candidate_probability(threshold, bands, num_perm // bands) >= recall:
            best = bands
            break  # the first (fewest bands, most rows) that reaches the recall
    return best

