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


# elements per in-place pass: a few arrays of this size (128 KB of uint64) stay in the CPU
# cache, and scratch buffers this small are cheap to allocate again and again (many fresh
# large temporaries cost page faults, which measured as much as the arithmetic itself)
_CHUNK = 16384


def mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads every input bit over the whole word."""
    h = (h ^ (h >> np.uint64(30))) * _M1
    h = (h ^ (h >> np.uint64(27))) * _M2
    return h ^ (h >> np.uint64(31))


def mix_inplace(h: np.ndarray, tmp: np.ndarray | None = None) -> np.ndarray:
    """`mix` of a contiguous uint64 array, overwriting it, a cache-sized piece at a time: the
    same values, about twice as fast on large arrays (no temporaries travel to memory).
    `tmp`, if given, is uint64 scratch space of at least min(`_CHUNK`, h.size) values."""
    if not h.flags.c_contiguous:
        raise ValueError("mix_inplace needs a contiguous array")
    flat = h.reshape(-1)
    if tmp is None:
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
    full-width ASCII; the rest is folded in numpy (str methods are slow on kana). Without
    `fold` the code points are a read-only view of the encoded text (no copy)."""
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    if not fold or not len(codes):
        return codes, lengths
    codes = codes.copy()
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


def _rolling(codes: np.ndarray, n: int, seed: int, out: np.ndarray | None = None) -> np.ndarray:
    """Hash of every window of n code points (polynomial, then splitmix64), built in place in
    the output (`out`, if given, is reused: at least as long as the windows) a cache-sized
    piece at a time."""
    width = max(len(codes) - n + 1, 0)
    out = np.empty(width, dtype=np.uint64) if out is None else out[:width]
    tmp = np.empty(min(_CHUNK, width), dtype=np.uint64)
    wide = np.empty(min(_CHUNK, width) + n - 1, dtype=np.uint64)  # the chunk's code points, cast once
    start = np.uint64(seed * int(_M2) * int(_BASE) % 2**64)  # the seed folded into the first step
    for s in range(0, width, _CHUNK):
        h = out[s : s + _CHUNK]
        w = len(h)
        x = wide[: w + n - 1]
        x[:] = codes[s : s + w + n - 1]
        np.add(x[:w], start, out=h)
        for k in range(1, n):
            h *= _BASE
            h += x[k : k + w]
        mix_inplace(h, tmp)
    return out


def shingles_of_codes(codes: np.ndarray, lengths: np.ndarray, n: int, seed: int = 1,
                      out: np.ndarray | None = None) -> Shingles:
    """Shingle hashes from concatenated code points (see `code_points`); `out`, if given, is
    reused for the hashes (see `_rolling`)."""
    n_docs = len(lengths)
    hashes = _rolling(codes, n, seed, out)
    starts = np.zeros(n_docs, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    counts = np.maximum(lengths - n + 1, 0)
    owner = np.repeat(np.arange(n_docs, dtype=np.uint32), lengths)[: len(hashes)]
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
        owner = np.concatenate([owner, short.astype(np.uint32)])
    return Shingles(hashes, starts, counts, owner)


def signatures(sh: Shingles, num_perm: int, skip: np.ndarray | None = None,
               out: np.ndarray | None = None) -> np.ndarray:
    """One-permutation MinHash signatures with rotation densification, shape (texts, num_perm).

    Texts without shingles (empty) or listed in `skip` get an all-empty row and match nothing.
    Each hash is split into a bin (low bits) and a 32-bit value (high bits); the minimum per
    (text, bin) is one unbuffered `np.minimum.at` scatter, a chunk of hashes at a time. Hashes
    nobody owns (and those of skipped texts) land in one extra row that is cut off afterwards,
    so nothing has to be filtered out first. `out`, if given, is a contiguous (texts + 1,
    num_perm) uint64 array to fill (its last row is that scratch row); a view of it is returned."""
    n_docs = len(sh.starts)
    owner = sh.owner
    if skip is not None and len(skip):
        owner = owner.copy()
        owner[np.isin(owner, skip.astype(owner.dtype))] = n_docs
    if out is None:
        out = np.empty((n_docs + 1, num_perm), dtype=np.uint64)
    elif out.shape != (n_docs + 1, num_perm) or out.dtype != np.uint64 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a contiguous uint64 array of shape {(n_docs + 1, num_perm)}")
    out.fill(_EMPTY)
    flat = out.reshape(-1)
    k = np.uint64(num_perm)
    power_of_two = num_perm & (num_perm - 1) == 0
    shift = np.uint64(num_perm.bit_length() - 1)
    slot = np.empty(min(_CHUNK, len(sh.hashes)), dtype=np.uint64)
    value = np.empty_like(slot)
    for s in range(0, len(sh.hashes), _CHUNK):
        h = sh.hashes[s : s + _CHUNK]
        at, v = slot[: len(h)], value[: len(h)]
        at[:] = owner[s : s + _CHUNK]
        if power_of_two:  # shifts and masks: vector instructions, unlike 64-bit multiplies
            at <<= shift
            np.bitwise_and(h, k - np.uint64(1), out=v)
        else:
            at *= k
            np.remainder(h, k, out=v)
        at += v
        np.right_shift(h, np.uint64(32), out=v)
        np.minimum.at(flat, at.view(np.int64), v)
    sig = out[:n_docs]
    _densify(sig)
    return sig


def signatures_of_codes(codes: np.ndarray, lengths: np.ndarray, ngram: int, num_perm: int,
                        seed: int = 1, block: int = 512) -> np.ndarray:
    """`signatures(shingles_of_codes(codes, lengths, ngram, seed), num_perm)` for callers that
    need no shingles afterwards: the same values, computed `block` texts at a time straight
    into the result, with the hash buffer reused, so that every temporary stays small and in
    the CPU cache (faster, and memory does not grow with the batch)."""
    n = len(lengths)
    # one row more than texts: a block's scratch row is the next block's first (not yet filled)
    out = np.empty((n + 1, num_perm), dtype=np.uint64)
    ends = np.concatenate(([0], np.cumsum(lengths)))
    widest = max((int(ends[min(b + block, n)] - ends[b]) for b in range(0, n, block)), default=0)
    hashes = np.empty(widest, dtype=np.uint64)
    for b in range(0, n, block):
        e = min(b + block, n)
        sh = shingles_of_codes(codes[ends[b] : ends[e]], lengths[b:e], ngram, seed, out=hashes)
        signatures(sh, num_perm, out=out[b : e + 1])
    return out[:n]


def _densify(sig: np.ndarray) -> None:
    """Rotation densification, in place: an empty bin takes the value of the next genuine
    (non-empty before densification) bin to its right, cyclically, mixed with the distance so it
    never equals a genuine value. Rows with no value at all stay empty.

    The distance to the next genuine bin is found for every bin at once, one step to the right
    at a time, with byte-wide operations on the emptiness mask (cheap: no gathers, no masked
    writes); the few empty bins still looking after `_NEAR` steps (in texts with few shingles)
    go on one by one in `_far_distances`. Only the empty bins are then gathered and mixed."""
    n, k = sig.shape
    flat = sig.reshape(-1)
    empty = flat == _EMPTY
    hole = np.flatnonzero(empty)
    if not len(hole):
        return
    genuine = ~empty.reshape(n, k)
    twice = np.concatenate([genuine, genuine], axis=1)  # bin j + d, cyclically, is column j + d
    looking = empty.reshape(n, k).copy()
    width = np.uint8 if k <= 256 else np.uint32  # distances are below k
    dist = np.zeros((n, k), dtype=width)
    for d in range(1, min(_NEAR, k)):
        hit = looking & twice[:, d : d + k]
        dist |= hit.view(np.uint8) * width(d)
        looking ^= hit
        if not looking.any():
            break
    if looking.any():
        _far_distances(looking, genuine, dist)
    power_of_two = k & (k - 1) == 0
    col = hole & (k - 1) if power_of_two else hole % k
    step = dist.reshape(-1).take(hole).astype(np.int64)
    if not step.all():  # rows without any genuine bin stay empty
        live = np.flatnonzero(step)
        hole, col, step = hole.take(live), col.take(live), step.take(live)
    donor = col + step
    donor = donor & (k - 1) if power_of_two else donor % k
    value = flat.take(donor + hole - col)
    value += step.view(np.uint64)
    flat[hole] = mix_inplace(value)


_NEAR = 32  # steps over the whole mask (fewer when all are found); beyond: texts with few shingles


def _far_distances(looking: np.ndarray, genuine: np.ndarray, dist: np.ndarray) -> None:
    """Distances (into `dist`, in place) for the empty bins still `looking` after `_NEAR`
    steps, each walking right until a genuine bin; rows without one keep distance 0."""
    k = genuine.shape[1]
    rows, cols = np.nonzero(looking)
    live = np.flatnonzero(genuine.any(axis=1).take(rows))
    rows, cols = rows.take(live), cols.take(live)
    out = np.zeros(len(rows), dtype=np.int64)
    who = np.arange(len(rows))
    flat = genuine.reshape(-1)
    base = rows * k
    for d in range(min(_NEAR, k), k):
        c = (cols.take(who) + d) % k
        found = flat.take(base.take(who) + c)
        out[who.take(np.flatnonzero(found))] = d
        rest = np.flatnonzero(~found)
        if not len(rest):
            break
        who = who.take(rest)
    dist[rows, cols] = out


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

