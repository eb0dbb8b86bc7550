"""The one LCS: bit-parallel equals the plain dynamic programme; ROUGE-L equals rouge_score."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score.rouge_scorer import _score_lcs
from tests.support.reference import dp_lcs

from oshie.eval.metrics.rouge import rouge_scores
from oshie.ja.lcs import lcs_length, lcs_many, rouge_l

# a small alphabet makes long common subsequences (the interesting case) likely; tokens of
# several characters stand for morphemes
CHARS = st.text(alphabet="あいうえおかきの日本語。、", max_size=40)
MORPHS = st.lists(st.sampled_from(["東京", "都", "の", "人口", "は", "約", "1400", "万", "人"]), max_size=30)


@settings(max_examples=200, deadline=None)
@given(CHARS, CHARS)
def test_bit_parallel_lcs_equals_dynamic_programming(a: str, b: str) -> None:
    assert lcs_length(a, b) == dp_lcs(a, b) == lcs_length(b, a)


@settings(max_examples=100, deadline=None)
@given(MORPHS, MORPHS)
def test_lcs_over_multi_character_tokens(a: list[str], b: list[str]) -> None:
    assert lcs_length(a, b) == dp_lcs(a, b)


@settings(max_examples=100, deadline=None)
@given(CHARS, st.lists(CHARS, min_size=1, max_size=8))
def test_lcs_of_many_texts_in_one_integer_equals_each_alone(pattern: str, texts: list[str]) -> None:
    # guard bits must keep the segments from leaking carries into each other
    assert lcs_many(list(pattern), [list(t) for t in texts]) == [dp_lcs(pattern, t) for t in texts]


@settings(max_examples=150, deadline=None)
@given(MORPHS, MORPHS)
def test_rouge_l_equals_rouge_score_bit_for_bit(pred: list[str], ref: list[str]) -> None:
    assert rouge_l(pred, ref) == _score_lcs(ref, pred).fmeasure


@settings(max_examples=60, deadline=None)
@given(CHARS, CHARS)
def test_eval_rouge_l_uses_the_same_lcs(pred: str, ref: str) -> None:
    from oshie.eval.metrics.qa import char_tokens

    pt, rt = char_tokens(pred), char_tokens(ref)
    assert rouge_scores(pred, [ref], "char")["rougeL"] == _score_lcs(rt, pt).fmeasure
