"""Cohen's and Fleiss' kappa against values computed by hand."""

from __future__ import annotations

import math

import pytest

from oshie.eval.metrics.agreement import cohen_kappa, fleiss_kappa, percent_agreement


def test_cohen_kappa_hand_computed() -> None:
    a = ["W", "W", "L", "T", "L"]
    b = ["W", "W", "L", "W", "T"]
    # observed: items 1-3 agree -> 3/5 = 0.6
    # a: W2 L2 T1; b: W3 L1 T1 -> expected (2*3 + 2*1 + 1*1) / 25 = 9/25 = 0.36
    # kappa = (0.6 - 0.36) / (1 - 0.36) = 0.24 / 0.64 = 0.375
    assert percent_agreement(a, b) == pytest.approx(0.6)
    assert cohen_kappa(a, b) == pytest.approx(0.375)


def test_cohen_kappa_edges() -> None:
    assert cohen_kappa(["x", "y"], ["x", "y"]) == pytest.approx(1.0)
    # systematic disagreement: observed 0, expected 0.5 -> -1
    assert cohen_kappa(["x", "y"], ["y", "x"]) == pytest.approx(-1.0)
    # one label only: chance agreement is 1, kappa undefined
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"]))
    with pytest.raises(ValueError):
        cohen_kappa(["x"], ["x", "y"])


def test_fleiss_kappa_hand_computed() -> None:
    # five items, three raters, categories (x, tie, y)
    table = [[3, 0, 0], [2, 0, 1], [0, 1, 2], [1, 1, 1], [0, 0, 3]]
    # P_i = (sum n_ij^2 - 3) / 6: 1, 2/6, 2/6, 0, 1 -> mean 8/15
    # p_j = column sums / 15: 6/15, 2/15, 7/15 -> P_e = (36 + 4 + 49) / 225 = 89/225
    # kappa = (120/225 - 89/225) / (1 - 89/225) = 31/136
    assert fleiss_kappa(table) == pytest.approx(31 / 136)


def test_fleiss_kappa_edges() -> None:
    assert fleiss_kappa([[3, 0], [0, 3]]) == pytest.approx(1.0)
    # every item split 1:1 between two raters: P_i = 0, P_e = 0.5 -> kappa = -1
    assert fleiss_kappa([[1, 1], [1, 1]]) == pytest.approx(-1.0)
    assert math.isnan(fleiss_kappa([[2, 0], [2, 0]]))
    with pytest.raises(ValueError):
        fleiss_kappa([[2, 0], [1, 0]])
