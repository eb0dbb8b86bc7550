"""Blind pairwise human evaluation: import two systems' answers (CLI), three raters vote in the
browser without ever receiving a system name, sides counterbalanced, and the results equal
values computed by hand from the fixed vote table below."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.studio.conftest import LiveStudio
from tests.support.cli import run_cli

from oshie.eval.metrics.agreement import fleiss_kappa
from oshie.eval.metrics.bootstrap import bootstrap_ci, mean_ci

X, Y = "model-alpha-7b", "model-beta-13b"  # the hidden names
PROMPTS = [f"質問{i}：日本の伝統行事を一つ紹介してください。" for i in range(1, 6)]
ANSWER = {X: [f"丁寧な回答{i}です。行事の由来と時期を説明します。" for i in range(1, 6)],
          Y: [f"短い回答{i}。" for i in range(1, 6)]}
# the fixed vote table, in the frame of system X (x = X better, y = Y better), raters 1..3
VOTES = [("x", "x", "x"), ("x", "x", "y"), ("y", "y", "tie"), ("x", "y", "tie"), ("y", "y", "y")]
# the LLM judge's outcome for X on the same pairs
JUDGE = ["win", "win", "loss", "win", "tie"]


def _write_inputs(d: Path) -> tuple[Path, Path, Path]:
    paths = []
    for name in (X, Y):
        # X as an `oshie eval judge` run directory (answers.jsonl inside), Y as an answers JSONL
        if name == X:
            (d / name).mkdir()
            p, ref = d / name / "answers.jsonl", d / name
        else:
            p = ref = d / f"{name}.jsonl"
        p.write_text("".join(json.dumps({"id": str(i + 1), "input": q, "answer": ANSWER[name][i]}, ensure_ascii=False)
                             + "\n" for i, q in enumerate(PROMPTS)), encoding="utf-8")
        paths.append(ref)
    compare = d / "compare"
    compare.mkdir()
    (compare / "pairwise.jsonl").write_text("".join(
        json.dumps({"id": str(i + 1), "system_x": X, "system_y": Y, "outcome_for_x": o}) + "\n"
        for i, o in enumerate(JUDGE)), encoding="utf-8")
    return paths[0], paths[1], compare


def _cli(*args: str) -> str:
    code, out, err = run_cli(list(args))
    assert code == 0, err or out
    return out


def test_blind_round_in_the_browser(sign_in, live_studio: LiveStudio, tmp_path: Path) -> None:
    x_file, y_file, compare = _write_inputs(tmp_path)
    db = ["--db", live_studio.studio.db.url]
    out = _cli("studio", "eval", "import", str(live_studio.project), "blind-1", str(x_file), str(y_file),
               "--raters", "3", "--judge", str(compare), *db)
    assert "2 systems, 5 prompts" in out
    from sqlalchemy import select

    from oshie.studio.db import EvalRound

    with live_studio.studio.db.transaction() as s:
        rid = s.scalar(select(EvalRound.id).where(EvalRound.name == "blind-1"))

    left_system: dict[int, list[str]] = {i: [] for i in range(5)}
    for r, rater in enumerate(("rater1", "rater2", "rater3")):
        page = sign_in(rater)
        api = page.request.get(f"/api/eval/{rid}/next")
        assert api.ok and X not in api.text() and Y not in api.text()
        assert page.request.get(f"/eval/{rid}/results").status == 403  # round still open
        while True:
            page.goto(f"/eval/{rid}")
            html = page.content()
            assert X not in html and Y not in html  # the page source never names a system
            if page.locator("#done").count():
                break
            item = PROMPTS.index(page.locator("article.question .text").inner_text())
            left = page.locator("#left").inner_text()
            on_left = X if left == ANSWER[X][item] else Y
            assert left == ANSWER[on_left][item]
            left_system[item].append(on_left)
            want = VOTES[item][r]
            side = "tie" if want == "tie" else ("left" if (want == "x") == (on_left == X) else "right")
            page.click(f"#vote-{side}")
            page.wait_for_url(f"**/eval/{rid}")
    for item, sides in left_system.items():
        assert len(sides) == 3
        assert set(sides) == {X, Y}, f"item {item}: every rater saw the same order"

    admin = sign_in("boss")
    admin.goto(f"/eval/{rid}/results")
    admin.click("text=締め切る")
    admin.wait_for_url(f"**/eval/{rid}/results")
    rater = sign_in("rater1")
    assert rater.request.get(f"/eval/{rid}/results").status == 200  # visible once closed

    _cli("studio", "eval", "results", str(live_studio.project), "blind-1", "--out", str(tmp_path / "res"), *db)
    results = json.loads((tmp_path / "res" / "results.json").read_text("utf-8"))
    m = results[f"{X}_vs_{Y}"]
    # item outcomes from the mean preference for X (x=1, tie=0.5, y=0):
    #   1: 3/3 -> win   2: 2/3 -> win   3: 0.5/3 -> loss   4: 1.5/3 = 0.5 -> tie   5: 0 -> loss
    # win 2/5 = 0.4, tie 1/5 = 0.2, loss 2/5 = 0.4; CIs: the bootstrap of these 0/1 vectors
    for metric, vector in (("win_rate", [1, 1, 0, 0, 0]), ("tie_rate", [0, 0, 0, 1, 0]),
                           ("loss_rate", [0, 0, 1, 0, 1])):
        assert m[metric]["value"] == pytest.approx(sum(vector) / 5)
        assert m[metric]["ci95"] == pytest.approx(list(mean_ci(vector, seed=0)))
        assert m[metric]["n"] == 5
    # Fleiss' kappa, counts (x, tie, y) per item: [3,0,0] [2,0,1] [0,1,2] [1,1,1] [0,0,3]
    # P_i = 1, 1/3, 1/3, 0, 1 -> mean 8/15; p = 6/15, 2/15, 7/15 -> P_e = 89/225
    # kappa = (120 - 89) / (225 - 89) = 31/136 = 0.2279
    table = [[3, 0, 0], [2, 0, 1], [0, 1, 2], [1, 1, 1], [0, 0, 3]]
    assert m["fleiss_kappa"]["value"] == pytest.approx(31 / 136)
    import numpy as np

    t = np.array(table)
    assert m["fleiss_kappa"]["ci95"] == pytest.approx(list(bootstrap_ci(5, lambda idx: fleiss_kappa(t[idx]), seed=0)),
                                                      nan_ok=True)
    # human vs judge: W W L T L against W W L W T -> agree on 3 of 5 = 0.6
    # Cohen: expected (2*3 + 2*1 + 1*1) / 25 = 0.36 -> (0.6 - 0.36) / 0.64 = 0.375
    assert m["human_judge_agreement"]["value"] == pytest.approx(0.6)
    assert m["human_judge_kappa"]["value"] == pytest.approx(0.375)
    assert "undecided" in m and m["undecided"]["value"] == 0  # the `oshie eval compare` shape
    votes = [json.loads(line) for line in (tmp_path / "res" / "votes.jsonl").read_text("utf-8").splitlines()]
    assert [v["outcome_for_x"] for v in votes] == ["win", "win", "loss", "tie", "loss"]
