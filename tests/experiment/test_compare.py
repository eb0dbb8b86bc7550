"""The experiment's paired comparisons and results.csv on a fixed table of per-item results."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from oshie.experiment.cache import StageOutput
from oshie.experiment.compare import compare_rows, row_items
from oshie.experiment.plan import Row
from oshie.experiment.report import ResultRow, write_csv

ACC = {"base": [0] * 8, "X": [1] * 8, "Y": [1, 0, 1, 0, 1, 1, 0, 0]}


def _eval_stage(tmp: Path, variant: str) -> StageOutput:
    d = tmp / variant
    (d / "jcommonsenseqa").mkdir(parents=True)
    (d / "jcommonsenseqa" / "items.jsonl").write_text(
        "".join(
            json.dumps({"id": str(i), "correct": bool(v)}) + "\n" for i, v in enumerate(ACC[variant])
        ),
        "utf-8",
    )
    return StageOutput(d, {"items": {"jcommonsenseqa": "jcommonsenseqa/items.jsonl"}})


def test_rows_are_compared_pairwise_and_holm_corrected_together(tmp_path: Path) -> None:
    rows = [Row("m", v, f"eval/m/{v}", None, "base/m") for v in ACC]
    items = {r.eval_stage: row_items(_eval_stage(tmp_path, r.variant)) for r in rows}
    comps = compare_rows(rows, items, ["jcommonsenseqa/acc"])
    got = {(c.a, c.b): c.result for c in comps}
    assert list(got) == [("base", "X"), ("base", "Y"), ("X", "Y")]
    # base vs X: 8 discordant items, all X: p = 2 * (1/2)^8 = 0.0078125
    # base vs Y: Y right on items 0, 2, 4, 5 only: 4 discordant one way, p = 2 / 16 = 0.125
    # X vs Y: X right where Y is wrong on items 1, 3, 6, 7: p = 0.125
    assert [r.p for r in got.values()] == pytest.approx([0.0078125, 0.125, 0.125])
    # Holm over 3: 0.0078125 * 3 = 0.0234375; 0.125 * 2 = 0.25; max(0.25, 0.125 * 1) = 0.25
    assert [r.p_holm for r in got.values()] == pytest.approx([0.0234375, 0.25, 0.25])
    assert [r.significant for r in got.values()] == [True, False, False]
    # base vs X: every item differs by +1, so the joint-resample interval is exactly [1, 1]
    assert got[("base", "X")].ci95 == pytest.approx((1.0, 1.0))
    assert got[("base", "X")].diff == 1.0 and got[("X", "Y")].diff == pytest.approx(-0.5)
    as_json = comps[0].to_dict()
    assert (as_json["row_a"], as_json["row_b"], as_json["a"], as_json["b"]) == ("base", "X", 0.0, 1.0)

    # results.csv marks only the difference that survives the correction
    result_rows = []
    for r in rows:
        rr = ResultRow("m", r.variant, {"jcommonsenseqa/acc": {"value": 0.0, "ci95": [0, 0]}})
        if r.variant != "base":
            rr.delta["jcommonsenseqa/acc"] = got[("base", r.variant)].diff
            rr.paired["jcommonsenseqa/acc"] = got[("base", r.variant)]
        result_rows.append(rr)
    path = write_csv(tmp_path / "results.csv", result_rows, ["jcommonsenseqa/acc"])
    table = {r["variant"]: r for r in csv.DictReader(open(path, encoding="utf-8"))}
    assert table["X"]["jcommonsenseqa/acc delta_verdict"] == "B better"
    assert table["X"]["jcommonsenseqa/acc delta_p_holm"] == "0.02344"
    assert table["X"]["jcommonsenseqa/acc delta_ci95_lo"] == "1.0000"
    assert table["Y"]["jcommonsenseqa/acc delta_verdict"] == "no detectable difference"
    assert table["base"]["jcommonsenseqa/acc delta_verdict"] == ""
