"""Metric test vectors computed by hand (the comments show the arithmetic)."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oshie.eval.metrics.bootstrap import mean_ci, resample_indices
from oshie.eval.metrics.bradley_terry import Game, fit_bradley_terry
from oshie.eval.metrics.classification import balanced_accuracy, macro_f1
from oshie.eval.metrics.qa import exact_match, f1_char, f1_morph, morph_tokens, normalize_answer
from oshie.eval.metrics.rouge import rouge_scores
from oshie.ja.lcs import lcs_length


def test_normalisation_strips_punctuation_and_width():
    # NFKC turns full-width digits into ASCII; 「」、。 and spaces are punctuation/whitespace
    assert normalize_answer("「３７７６ メートル」。") == "3776メートル"
    assert exact_match("３７７６メートル。", ["3776メートル"]) == 1.0
    assert exact_match("3776", ["3776メートル"]) == 0.0


def test_morpheme_f1_by_hand():
    # gold 静岡|県|と|山梨|県|に|またがる (7 morphemes), prediction 静岡|県|と|山梨|県 (5)
    assert morph_tokens("静岡県と山梨県にまたがる") == ["静岡", "県", "と", "山梨", "県", "に", "またがる"]
    # overlap 5 -> P = 5/5, R = 5/7, F1 = 2PR/(P+R) = (10/7)/(12/7) = 10/12
    assert f1_morph("静岡県と山梨県", ["静岡県と山梨県にまたがる"]) == pytest.approx(10 / 12)
    # max over golds: the first gold matches exactly
    assert f1_morph("静岡県と山梨県", ["静岡県と山梨県にまたがる", "静岡県と山梨県"]) == 1.0
    # 滋賀|県 vs 東京|都: nothing shared -> 0
    assert f1_morph("滋賀県", ["東京都"]) == 0.0
    # 山梨|県 vs 静岡|県: 県 shared, P = R = 1/2 -> F1 = 1/2
    assert f1_morph("山梨県", ["静岡県"]) == pytest.approx(0.5)


def test_char_f1_by_hand():
    # pred 3 7 7 6 メ ー ト ル (8 chars) vs gold 3 7 7 6 (4): overlap 4, P = 1/2, R = 1
    # F1 = 2 * (1/2) * 1 / (1/2 + 1) = 2/3
    assert f1_char("3776メートル", ["3776"]) == pytest.approx(2 / 3)


def test_char_rouge_l_by_hand():
    # pred き ょ う は は れ (6), ref き ょ う も は れ だ (7); LCS = き ょ う は れ = 5
    assert lcs_length(list("きょうははれ"), list("きょうもはれだ")) == 5
    # P = 5/6, R = 5/7, F = 2PR/(P+R) = (50/42)/(65/42) = 10/13
    s = rouge_scores("きょうははれ", ["きょうもはれだ"], unit="char")
    assert s["rougeL"] == pytest.approx(10 / 13)
    # ROUGE-1: unigram overlap min-counts: き1 ょ1 う1 は1 れ1 = 5 -> same 10/13
    assert s["rouge1"] == pytest.approx(10 / 13)
    # ROUGE-2: pred bigrams きょ ょう うは はは はれ; ref きょ ょう うも もは はれ れだ
    # overlap きょ ょう はれ = 3; P = 3/5, R = 3/6, F = 2*0.6*0.5/1.1 = 6/11
    assert s["rouge2"] == pytest.approx(6 / 11)


def test_rouge_takes_the_best_reference():
    s = rouge_scores("きょうははれ", ["あめ", "きょうははれ"], unit="char")
    assert s["rougeL"] == 1.0


def test_bootstrap_on_fixed_seed_by_hand():
    # default_rng(0).integers(0, 3, (5, 3)) gives these resamples of item indices
    idx = resample_indices(3, 5, seed=0)
    assert idx.tolist() == [[2, 1, 1], [0, 0, 0], [0, 0, 0], [2, 1, 2], [1, 1, 2]]
    # values [0, 1, 3] -> resample means 5/3, 0, 0, 7/3, 5/3; sorted 0, 0, 5/3, 5/3, 7/3
    # numpy linear percentile: 2.5% at position 0.025*4 = 0.1 -> 0 + 0.1*(0-0) = 0
    # 97.5% at position 3.9 -> 5/3 + 0.9*(7/3 - 5/3) = 5/3 + 0.6
    lo, hi = mean_ci([0, 1, 3], n_resamples=5, seed=0)
    assert lo == pytest.approx(0.0)
    assert hi == pytest.approx(5 / 3 + 0.6)
    assert mean_ci([0, 1, 3], n_resamples=5, seed=0) == (lo, hi)  # same seed, same interval


def test_classification_metrics_by_hand():
    gold = ["a", "a", "a", "b"]
    pred = ["a", "a", "b", "b"]
    # recall a = 2/3, recall b = 1/1 -> balanced = (2/3 + 1)/2 = 5/6
    assert balanced_accuracy(gold, pred, ["a", "b"]) == pytest.approx(5 / 6)
    # F1 a: tp 2, fp 0, fn 1 -> 4/5; F1 b: tp 1, fp 1, fn 0 -> 2/3; macro = (4/5 + 2/3)/2 = 11/15
    assert macro_f1(gold, pred, ["a", "b"]) == pytest.approx(11 / 15)


def test_bradley_terry_two_players_no_position_bias():
    # A first: A wins 3 of 4 (odds 3); B first: B wins 1 of 4 (odds 1/3).
    # MLE: theta*r = 3 and theta/r = 1/3 with r = pA/pB -> theta^2 = 1, r^2 = 9 -> theta 1, r 3
    games = [Game("A", "B", 1)] * 3 + [Game("A", "B", 0)] + [Game("B", "A", 1)] + [Game("B", "A", 0)] * 3
    fit = fit_bradley_terry(games)
    assert fit.converged
    assert fit.home_advantage == pytest.approx(1.0, abs=1e-6)
    assert fit.strengths["A"] / fit.strengths["B"] == pytest.approx(3.0, rel=1e-6)
    assert fit.win_probability("A", "B") == pytest.approx(0.75, rel=1e-6)


def test_bradley_terry_with_first_position_advantage():
    # A first: A wins 3 of 4 (odds 3); B first: B wins 2 of 4 (odds 1).
    # theta*r = 3, theta/r = 1 -> theta^2 = 3, r^2 = 3 -> theta = r = sqrt(3)
    games = ([Game("A", "B", 1)] * 3 + [Game("A", "B", 0)]
             + [Game("B", "A", 1)] * 2 + [Game("B", "A", 0)] * 2)
    fit = fit_bradley_terry(games)
    assert fit.home_advantage == pytest.approx(math.sqrt(3), rel=1e-6)
    assert fit.strengths["A"] / fit.strengths["B"] == pytest.approx(math.sqrt(3), rel=1e-6)
    # ignoring the position term mixes them up: A won 5 of 8 -> r = 5/3
    plain = fit_bradley_terry(games, home_advantage=False)
    assert plain.strengths["A"] / plain.strengths["B"] == pytest.approx(5 / 3, rel=1e-6)


def test_bradley_terry_three_player_cycle_is_level():
    # a rock-paper-scissors tournament played in both orders: everyone equal, no bias
    games = []
    for x, y in (("A", "B"), ("B", "C"), ("C", "A")):
        games += [Game(x, y, 1), Game(y, x, 0)]
    fit = fit_bradley_terry(games)
    for p in "ABC":
        assert fit.strengths[p] == pytest.approx(1 / 3, rel=1e-6)
    assert fit.home_advantage == pytest.approx(1.0, rel=1e-6)


# (prediction, gold): equal after normalisation, so EM = 1 and both F1 = 1
SAME_AFTER_NORMALISATION = [
    ("3,776メートル", "3776メートル"),      # thousands separator (F1 was 0.4 when segmented first)
    ("A.B.C", "ABC"),                      # punctuation between letters (F1 was 0)
    ("３７７６メートル", "3776メートル"),      # full-width digits
    ("３，７７６メートル", "3776メートル"),    # full-width digits and comma
    ("1,000,000円", "1000000円"),
    ("「東京」。", "東京"),                   # Japanese brackets and 。
    ("東京、大阪", "東京大阪"),               # 、
    ("東京 都", "東京都"),                    # a space
    ("\u3000東京都\u3000", "東京都"),          # ideographic spaces
    ("ｽｰﾊﾟｰﾏｰｹｯﾄ", "スーパーマーケット"),      # half-width katakana and its long vowel mark
    ("ス－パー", "スーパー"),                 # full-width hyphen typed for the long vowel mark
    ("コンピュ-タ-", "コンピューター"),        # ASCII hyphens typed for it
    ("Ａｐｐｌｅ", "Apple"),                   # full-width Latin letters
    ("２０２３年", "2023年"),
    ("静岡県・山梨県", "静岡県山梨県"),          # 中黒
]


@pytest.mark.parametrize(("pred", "gold"), SAME_AFTER_NORMALISATION)
def test_normalised_equal_answers_score_full_f1(pred: str, gold: str) -> None:
    em = exact_match(pred, [gold])
    assert em == 1.0
    assert f1_morph(pred, [gold]) == 1.0 >= em
    assert f1_char(pred, [gold]) == 1.0 >= em


@pytest.mark.parametrize(("pred", "gold"), [("3776", "3776メートル"), ("スーパ", "スーパー"),
                                            ("東京", "東京都"), ("3,776", "3,777")])
def test_near_misses_are_not_exact_but_f1_still_at_least_em(pred: str, gold: str) -> None:
    em = exact_match(pred, [gold])
    assert em == 0.0
    assert 0.0 <= f1_char(pred, [gold]) < 1.0 and f1_morph(pred, [gold]) >= em


NOISE = st.sampled_from(["", " ", "、", "。", "「", "」", ",", "・", "\u3000", "!"])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list("東京大阪の山川1234アイスー")), NOISE), min_size=1, max_size=12))
def test_f1_never_below_em_when_only_punctuation_and_width_differ(parts) -> None:
    gold = "".join(c for c, _ in parts)
    noisy = "".join(unicodedata.normalize("NFKC", c).translate(WIDE) + n for c, n in parts)
    em = exact_match(noisy, [gold])
    assert em == 1.0
    assert f1_morph(noisy, [gold]) >= em and f1_char(noisy, [gold]) >= em


WIDE = str.maketrans("0123456789", "０１２３４５６７８９")
