"""oshie.data.dedup: exact/near clusters, representatives, signatures vs exact Jaccard."""

from __future__ import annotations

import random
from importlib import resources

import numpy as np
import pytest

from oshie.data.dedup import DedupConfig, find_duplicates, signatures
from oshie.data.minhash import code_points, shingles_of_codes


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    text = resources.files("oshie").joinpath("resources/corpus/ja_sample.txt").read_text("utf-8")
    lines = [line.strip() for line in text.splitlines() if len(line.strip()) > 25]
    rng = random.Random(0)
    # distinct multi-sentence texts: disjoint groups of corpus lines
    rng.shuffle(lines)
    return ["".join(lines[i : i + 3]) for i in range(0, len(lines) - 3, 3)]


def edit(text: str, n: int, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(n):
        p = rng.randrange(len(chars))
        op = rng.choice("sid")
        if op == "s":
            chars[p] = rng.choice("あいうえおかきくけこ")
        elif op == "i":
            chars.insert(p, rng.choice("さしすせそ"))
        else:
            del chars[p]
    return "".join(chars)


def shingle_set(text: str, n: int = 5) -> set[str]:
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def jaccard(a: str, b: str) -> float:
    x, y = shingle_set(a), shingle_set(b)
    return len(x & y) / len(x | y)


def test_planted_near_duplicates_are_found_and_nothing_else(corpus):
    rng = random.Random(1)
    texts = list(corpus)
    planted = set()
    for k, base in enumerate(rng.sample(range(len(corpus)), 60)):
        texts.append(edit(corpus[base], 1 + k % 3, rng))
        planted.add((base, len(texts) - 1))
    result = find_duplicates(texts, DedupConfig(normalize=False))
    pairs = {(a, b) for c in result.clusters for a in c.members for b in c.members if a < b}
    expected = {p for p in planted if jaccard(texts[p[0]], texts[p[1]]) >= 0.6}
    assert len(expected) >= 55  # 1-3 edits on ~100-character texts stay above the threshold
    assert expected <= pairs
    assert pairs <= planted  # no pair of unrelated texts
    for c in result.clusters:
        assert c.representative == min(c.members) and c.kind == "near"


def test_exact_duplicates_and_normalisation():
    texts = ["東京は日本の首都です。", "東京は　日本の首都です．", "ＴＯＫＹＯ is big", "tokyo is big", "別の文章です。", ""]
    result = find_duplicates(texts, DedupConfig(ignore_punctuation=True))
    clusters = {tuple(c.members): c.kind for c in result.clusters}
    assert clusters == {(0, 1): "exact", (2, 3): "exact"}
    assert result.duplicates() == {1, 3}
    assert find_duplicates(texts, DedupConfig(normalize=False)).clusters == []


def test_spelling_variants_fold_when_asked():
    a = "家庭菜園について教えてください。ミニトマトはベランダでも育てやすい野菜です。"
    b = "家庭菜園について教えて下さい。ミニトマトはベランダでも育てやすい野菜です。"
    assert find_duplicates([a, b], DedupConfig(fold_variants=True)).clusters[0].kind == "exact"


def test_short_and_empty_texts_do_not_crash_or_match_everything():
    texts = ["", "あ", "あ", "いう", "", "abcd", "ABCD"]
    result = find_duplicates(texts, DedupConfig())
    assert sorted(tuple(c.members) for c in result.clusters) == [(1, 2), (5, 6)]


def test_signature_agreement_estimates_jaccard(corpus):
    rng = random.Random(2)
    a = corpus[:200]
    b = [edit(t, rng.randint(1, 12), rng) for t in a]
    sh = shingles_of_codes(*code_points(a + b, False), 5, 1)
    sig = signatures(sh, 128)
    est = (sig[: len(a)] == sig[len(a) :]).mean(axis=1)
    true = np.array([jaccard(x, y) for x, y in zip(a, b, strict=True)])
    err = est - true
    assert abs(err.mean()) < 0.02  # unbiased
    assert np.abs(err).mean() < 0.06  # ~ sqrt(J(1-J)/128)


def test_scales_without_quadratic_blowup_on_boilerplate():
    # 3000 records sharing a long template: many share buckets, verification stays linear
    texts = [f"以下の質問に丁寧に答えてください。質問番号{i}：{i * 7919 % 10007}について" for i in range(3000)]
    result = find_duplicates(texts, DedupConfig(threshold=0.95))
    assert result.n_candidates < 3000 * 24 * 2
