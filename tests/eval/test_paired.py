"""Paired comparisons on small fixed tables whose answers are worked out by hand below."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.eval.diff import diff_runs
from oshie.eval.metrics.paired import (
    NO_DIFFERENCE,
    compare,
    holm,
    mark_holm,
    mcnemar_exact,
    paired_bootstrap_ci,
    sign_flip_p,
)


def test_paired_bootstrap_ci_with_given_resamples_matches_hand_percentiles() -> None:
    a = [0, 1, 1, 0]
    b = [1, 1, 1, 1]  # per-item differences d = [1, 0, 0, 1]
    rows = np.array([[0, 0, 0, 0], [1, 1, 2, 2], [0, 1, 2, 3], [0, 3, 1, 1], [0, 0, 3, 1]])
    # means of d over each row: 1, 0, 0.5, 0.5, 0.75 -> sorted 0, 0.5, 0.5, 0.75, 1
    # numpy's linear percentile: 2.5% sits at position 0.025 * 4 = 0.1 -> 0 + 0.1 * 0.5 = 0.05
    #                            97.5% at 0.975 * 4 = 3.9 -> 0.75 + 0.9 * 0.25 = 0.975
    lo, hi = paired_bootstrap_ci(a, b, indices=rows)
    assert lo == pytest.approx(0.05) and hi == pytest.approx(0.975)


def test_joint_resampling_keeps_a_constant_difference_exact() -> None:
    # B beats A by exactly 0.2 on every item: any joint resample has mean difference 0.2, while
    # resampling A and B separately would give a wide interval (item difficulty varies a lot)
    a = [0.1, 0.9, 0.4, 0.0, 0.7, 0.3]
    b = [x + 0.2 for x in a]
    lo, hi = paired_bootstrap_ci(a, b, seed=3)
    assert lo == pytest.approx(0.2) and hi == pytest.approx(0.2)


def test_mcnemar_exact_counts_only_discordant_items() -> None:
    a = [1, 0, 1, 0, 1, 1, 0, 0]
    b = [1, 1, 1, 1, 1, 1, 1, 0]
    # discordant: A wrong/B right on items 2, 4, 7 (3), A right/B wrong on none (0)
    # p = 2 * P(X <= 0 | Binomial(3, 1/2)) = 2 * 1/8 = 0.25
    assert mcnemar_exact(a, b) == pytest.approx(0.25)
    # 8 discordant, all one way: 2 * (1/2)^8 = 0.0078125
    assert mcnemar_exact([0] * 8, [1] * 8) == pytest.approx(0.0078125)
    # 3 vs 1 of 4 discordant: 2 * (C(4,0) + C(4,1)) / 16 = 2 * 5/16 = 0.625
    assert mcnemar_exact([1, 0, 0, 0, 1], [0, 1, 1, 1, 1]) == pytest.approx(0.625)
    # no discordant item: nothing to test
    assert mcnemar_exact([1, 0], [1, 0]) == 1.0


def test_sign_flip_is_exact_on_small_tables() -> None:
    # d = [3, 1, -1, 2], sum 5; the 16 sign flips give |sum| >= 5 for
    # +3+1+1+2 = 7, +3-1+1+2 = 5 (flip the first 1), +3+1-1+2 = 5 (the observed), and their
    # three mirror images: 6 of 16 -> p = 0.375
    assert sign_flip_p([3, 1, -1, 2]) == pytest.approx(0.375)
    # all five positive: only all-plus and all-minus reach |15|: 2/32 = 0.0625; zeros drop out
    assert sign_flip_p([1, 2, 0, 3, 4, 5, 0]) == pytest.approx(0.0625)
    assert sign_flip_p([0, 0]) == 1.0


def test_sign_flip_monte_carlo_above_the_exact_limit_is_close_to_exact() -> None:
    # 20 equal positive differences: exact p = 2 / 2^20 ~ 1.9e-6; Monte Carlo with R resamples
    # cannot go below 1 / (R + 1) and should sit right there
    p = sign_flip_p([1.0] * 20, n_resamples=999)
    assert p == pytest.approx(1 / 1000)


def test_holm_adjusts_step_down_with_a_running_maximum() -> None:
    # p = [0.25, 0.375, 0.0078125] sorted: 0.0078125 * 3 = 0.0234375, 0.25 * 2 = 0.5,
    # 0.375 * 1 = 0.375 -> raised to the running maximum 0.5
    assert holm([0.25, 0.375, 0.0078125]) == pytest.approx([0.5, 0.5, 0.0234375])
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_compare_picks_the_test_and_holm_marks_only_what_survives() -> None:
    acc = compare([0] * 8, [1] * 8, metric="acc")
    rouge = compare([0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.6], metric="rougeL")
    assert acc.test == "mcnemar" and rouge.test == "sign_flip"
    assert rouge.p == pytest.approx(0.375)  # d = [0.3, 0.1, -0.1, 0.2]: the 3,1,-1,2 table
    assert rouge.diff == pytest.approx(0.125)
    mark_holm([acc, rouge])
    # 0.0078125 * 2 = 0.015625 < 0.05; max(0.015625, 0.375) = 0.375
    assert acc.p_holm == pytest.approx(0.015625) and acc.significant
    assert acc.verdict == "B better"
    assert rouge.p_holm == pytest.approx(0.375) and not rouge.significant
    assert rouge.verdict == NO_DIFFERENCE
    loss = compare([2.0] * 8, [1.0] * 8, metric="loss", lower_is_better=True)
    mark_holm([loss])
    # 8 non-zero differences all -1: exact p = 2 / 256; lower loss in B is B better
    assert loss.p == pytest.approx(0.0078125) and loss.verdict == "B better"


# --- two fixed eval runs ------------------------------------------------------------------


def _run(tmp: Path, name: str, acc: list[int], acc_norm: list[int], rouge: list[float]) -> Path:
    d = tmp / name
    (d / "jcommonsenseqa").mkdir(parents=True)
    (d / "summarization").mkdir()
    # ids written in a different order in each run: pairing is by id, not by line
    order = range(len(acc)) if name == "A" else reversed(range(len(acc)))
    (d / "jcommonsenseqa" / "items.jsonl").write_text(
        "".join(
            json.dumps({"id": f"q{i}", "correct": bool(acc[i]), "correct_norm": bool(acc_norm[i])})
            + "\n"
            for i in order
        ),
        "utf-8",
    )
    (d / "summarization" / "items.jsonl").write_text(
        "".join(json.dumps({"id": f"s{i}", "rougeL_char": v}) + "\n" for i, v in enumerate(rouge)),
        "utf-8",
    )
    entry = {"value": 0.0, "ci95": [0.0, 0.0], "n": 1}
    results = {
        "jcommonsenseqa": {"acc": entry, "acc_norm": entry, "balanced_acc": entry},
        "summarization": {"rougeL_char": entry},
    }
    (d / "results.json").write_text(json.dumps(results), "utf-8")
    return d


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a = _run(tmp_path, "A", [0] * 8, [1, 0, 1, 0, 1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4])
    b = _run(tmp_path, "B", [1] * 8, [1, 1, 1, 1, 1, 1, 1, 0], [0.4, 0.3, 0.2, 0.6])
    return a, b


def test_diff_runs_on_a_fixed_table(two_runs: tuple[Path, Path]) -> None:
    results, skipped = diff_runs(*two_runs)
    by = {r.metric: r for r in results}
    assert skipped == ["jcommonsenseqa/balanced_acc"]  # corpus-level: no per-item value
    # acc: 8 discordant one way, p = 2/256 = 0.0078125; acc_norm: 3 vs 0, p = 2/8 = 0.25;
    # rougeL: d = [0.3, 0.1, -0.1, 0.2], p = 6/16 = 0.375 (see the tests above)
    # Holm over three: 0.0078125 * 3 = 0.0234375; 0.25 * 2 = 0.5; max(0.5, 0.375 * 1) = 0.5
    assert by["jcommonsenseqa/acc"].p == pytest.approx(0.0078125)
    assert by["jcommonsenseqa/acc"].p_holm == pytest.approx(0.0234375)
    assert by["jcommonsenseqa/acc_norm"].p_holm == pytest.approx(0.5)
    assert by["summarization/rougeL_char"].p_holm == pytest.approx(0.5)
    assert [by[m].significant for m in by] == [True, False, False]
    # acc: every item differs by exactly +1, so the paired interval is [1, 1]
    assert by["jcommonsenseqa/acc"].ci95 == pytest.approx((1.0, 1.0))
    # acc_norm: d has three 1s and five 0s; a joint resample mean lies in [0, 1] around 3/8
    lo, hi = by["jcommonsenseqa/acc_norm"].ci95
    assert 0.0 <= lo < 0.375 < hi <= 1.0


def test_cli_eval_diff_prints_table_and_json(
    two_runs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from oshie import console

    monkeypatch.setattr(console.out, "width", 200)
    a, b = two_runs
    res = CliRunner().invoke(app, ["eval", "diff", str(a), str(b), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    marks = {c["metric"]: (c["p_holm"], c["verdict"]) for c in data["comparisons"]}
    assert marks["jcommonsenseqa/acc"] == (pytest.approx(0.0234375), "B better")
    assert marks["summarization/rougeL_char"] == (pytest.approx(0.5), NO_DIFFERENCE)
    res = CliRunner().invoke(app, ["eval", "diff", str(a), str(b)])
    assert res.exit_code == 0, res.output
    assert "+1.0000*" in res.output and NO_DIFFERENCE in res.output
    same = CliRunner().invoke(app, ["eval", "diff", str(a), str(a)])
    assert "no detectable difference after Holm correction" in same.output


def test_cli_eval_diff_names_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    import subprocess
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "oshie.cli.app", "eval", "diff", str(tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 1 and "results.json" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_defect_rate_listed_by_one_run_only_is_still_compared(tmp_path: Path) -> None:
    # the response audit lists a rate only where the defect occurred; both runs' items carry
    # the flag, so A's zeros pair with B's ones: 6 discordant one way, p = 2 / 64 = 0.03125
    for name, flags in (("A", [0] * 6), ("B", [1] * 6)):
        d = tmp_path / name / "response_audit"
        d.mkdir(parents=True)
        (d / "items.jsonl").write_text(
            "".join(json.dumps({"id": str(i), "low_japanese_ratio": f}) + "\n"
                    for i, f in enumerate(flags)), "utf-8")
        rates = {"low_japanese_ratio_rate": {"value": 1.0}} if name == "B" else {}
        (tmp_path / name / "results.json").write_text(
            json.dumps({"response_audit": {"any_defect_rate": {"value": 0}, **rates}}), "utf-8")
    results, _ = diff_runs(tmp_path / "A", tmp_path / "B")
    by = {r.metric: r for r in results}
    assert by["response_audit/low_japanese_ratio_rate"].p == pytest.approx(0.03125)
    assert by["response_audit/low_japanese_ratio_rate"].verdict == "A better"  # lower is better
