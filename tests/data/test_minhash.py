"""oshie.data.minhash: the vectorised signatures equal a plain per-text reading of their
definition (one-permutation MinHash, rotation densification), on the awkward cases too."""

from __future__ import annotations

import random

import numpy as np
import pytest

from oshie.data.minhash import (
    _EMPTY,
    band_keys,
    code_points,
    mix,
    mix_inplace,
    shingles_of_codes,
    signatures,
    signatures_of_codes,
)


def reference_signature(hashes: list[int], k: int) -> list[int]:
    """One text's signature, written straight from the definition, one bin at a time."""
    bins = [_EMPTY_INT] * k
    for h in hashes:
        b = h % k
        bins[b] = min(bins[b], h >> 32)
    if all(v == _EMPTY_INT for v in bins):
        return bins
    out = []
    for j in range(k):
        if bins[j] != _EMPTY_INT:
            out.append(bins[j])
            continue
        d = next(d for d in range(1, k) if bins[(j + d) % k] != _EMPTY_INT)
        value = (bins[(j + d) % k] + d) % 2**64
        out.append(int(mix(np.array([value], dtype=np.uint64))[0]))
    return out


_EMPTY_INT = int(_EMPTY)


def random_texts(rnd: random.Random, n: int) -> list[str]:
    alphabet = "あいうえおかきくけこアイウエオ漢字日本語ABCabc 　Ｘｘ、。!?\U0001f600"
    sizes = [0, 1, 4, 5, 6, 20, 60, 300]
    return ["".join(rnd.choice(alphabet) for _ in range(rnd.choice(sizes))) for _ in range(n)]


@pytest.mark.parametrize("k", [8, 96, 100, 128])
def test_signatures_follow_the_definition(k: int) -> None:
    rnd = random.Random(k)
    for _ in range(5):
        texts = random_texts(rnd, rnd.randint(1, 40))
        sh = shingles_of_codes(*code_points(texts, True), 5, 1)
        skip = np.array([0], dtype=np.int64)
        got = signatures(sh, k, skip=skip)
        for i in range(len(texts)):
            hashes = [] if i == 0 else sh.of(i).tolist()  # a skipped text is all-empty
            assert got[i].tolist() == reference_signature(hashes, k), (texts[i], k)


def test_blocked_signatures_equal_whole_batch_ones() -> None:
    rnd = random.Random(3)
    texts = random_texts(rnd, 300)
    codes, lengths = code_points(texts, True)
    whole = signatures(shingles_of_codes(codes, lengths, 5, 7), 128)
    for block in (1, 7, 64, 1000):
        assert np.array_equal(signatures_of_codes(codes, lengths, 5, 128, 7, block=block), whole)
    # a text whose every bin is filled needs no densification; one empty text stays empty
    assert (whole[[i for i, t in enumerate(texts) if not t.strip()]] == _EMPTY).all()
    with pytest.raises(ValueError):  # a result buffer must have the scratch row
        signatures(shingles_of_codes(codes, lengths, 5, 7), 128, out=np.empty((len(texts), 128), dtype=np.uint64))


def test_in_place_mix_and_blocked_band_keys() -> None:
    values = np.random.default_rng(0).integers(0, 2**63, 100_003, dtype=np.uint64)
    assert np.array_equal(mix_inplace(values.copy()), mix(values))
    with pytest.raises(ValueError):
        mix_inplace(values.reshape(-1, 1)[::2, 0])
    sig = np.random.default_rng(1).integers(0, 2**32, (3000, 128), dtype=np.uint64)
    keys = band_keys(sig, 32)
    rows = sig.reshape(3000, 32, 4)
    expect = np.zeros((3000, 32), dtype=np.uint64)
    for j in range(4):
        expect = mix(expect * np.uint64(0x100000001B3) + rows[:, :, j])
    assert np.array_equal(keys, expect)
