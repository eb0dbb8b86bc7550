"""The novelty filter: exact LCS, rouge_score-identical F, Japanese near-copies dropped."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.reference import dp_lcs

from oshie.ja.lcs import lcs_length, rouge_l_f
from oshie.synth.novelty import NoveltyFilter, char_tokens

# a small alphabet makes long common subsequences (the interesting case) likely
JA = st.text(alphabet="あいうえおかきの日本語。、", max_size=40)


def brute_f(a: str, b: str) -> float:
    ta, tb = char_tokens(a), char_tokens(b)
    lcs = dp_lcs("".join(ta), "".join(tb))
    if not ta or not tb or lcs == 0:
        return 0.0
    p, r = lcs / len(tb), lcs / len(ta)
    return 2 * p * r / (p + r)


@settings(max_examples=40, deadline=None)
@given(st.lists(JA, min_size=1, max_size=25), st.floats(0.3, 0.9))
def test_filter_decisions_equal_brute_force(items: list[str], threshold: float) -> None:
    filt = NoveltyFilter(threshold)
    pool: list[str] = []
    for text in items:
        expected = all(brute_f(p, text) <= threshold for p in pool)
        assert filt.offer(text).novel == expected
        if expected:
            pool.append(text)


def test_japanese_near_copy_is_dropped() -> None:
    filt = NoveltyFilter(0.7)
    filt.add("日本の四季の特徴について、小学生にもわかるように説明してください。")
    near = filt.offer("日本の四季の特徴を、小学生にもわかるように説明して下さい。")
    assert not near.novel and near.max_score > 0.8 and near.nearest == 0
    other = filt.offer("味噌汁をおいしく作るこつを三つ教えてください。")
    assert other.novel
    assert len(filt) == 2


def test_rouge_score_default_tokenizer_cannot_see_japanese() -> None:
    """Why oshie scores characters: rouge_score's default tokenizer drops every Japanese
    character, so two near-identical instructions score 0 and are never filtered."""
    from rouge_score import rouge_scorer
    a = "日本の四季の特徴について説明してください。"
    b = "日本の四季の特徴について説明して下さい。"
    default = rouge_scorer.RougeScorer(["rougeL"]).score(a, b)["rougeL"].fmeasure
    assert default == 0.0
    assert NoveltyFilter(0.7).check(a).novel  # empty pool
    f = NoveltyFilter(0.7)
    f.add(a)
    assert f.check(b).max_score == pytest.approx(brute_f(a, b)) and brute_f(a, b) > 0.7


def test_matches_rouge_score_with_a_character_tokenizer() -> None:
    from rouge_score import rouge_scorer

    class Chars:
        def tokenize(self, text: str) -> list[str]:
            return char_tokens(text)

    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=Chars())
    rng = random.Random(0)
    words = ["日本", "の", "首都", "について", "説明", "して", "ください", "。", "猫", "が", "好き"]
    texts = ["".join(rng.choices(words, k=rng.randint(3, 12))) for _ in range(60)]
    for a in texts[:30]:
        for b in texts[30:]:
            ref = scorer.score(a, b)["rougeL"].fmeasure
            ta, tb = char_tokens(a), char_tokens(b)
            assert rouge_l_f(lcs_length(ta, tb), len(tb), len(ta)) == ref  # bit-identical
