"""Blind rounds without a browser: more than two systems, vote rules, and an action that
crashes halfway leaves nothing behind."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.studio.conftest import LiveStudio, csrf_of

from oshie.errors import DataError
from oshie.studio import evaluation, workflow
from oshie.studio.db import Answer, User


def _systems(names: list[str], n: int = 4) -> dict[str, list[dict[str, str]]]:
    return {name: [{"id": str(i), "input": f"問{i}", "answer": f"{name}の答え{i}"} for i in range(n)] for name in names}


def test_three_systems_every_pair_and_bradley_terry(live_studio: LiveStudio) -> None:
    with live_studio.studio.db.transaction() as s:
        raters = [s.scalar(select(User).where(User.name == n)) for n in ("rater1", "rater2")]
        rnd = evaluation.import_round(s, f"three-{live_studio.backend}", _systems(["p", "q", "r"]), raters_per_pair=2)
        for rater in raters:
            while (vote := evaluation.next_assignment(s, rater, rnd)) is not None:
                view = evaluation.blind_view(s, vote)
                assert set(view) == {"assignment", "input", "left", "right"}
                # always prefer the answer of system p, else the left one
                side = "left" if view["left"].startswith("p") else "right" if view["right"].startswith("p") else "left"
                evaluation.cast_vote(s, rater, vote.id, side)
        results, records = evaluation.round_results(s, rnd)
    assert set(results) == {"p_vs_q", "p_vs_r", "q_vs_r", "bradley_terry"}
    assert results["p_vs_q"]["win_rate"]["value"] == 1.0 and results["p_vs_r"]["win_rate"]["value"] == 1.0
    # every vote for p: one category only, chance agreement is 1 and kappa is undefined; like
    # every undefined metric in a results.json it is null (strict JSON) with a note saying why
    kappa = results["p_vs_q"]["fleiss_kappa"]
    assert kappa["value"] is None and kappa["note"]
    # q vs r: both raters always pick the left answer, and the sides alternate between the two
    # raters of a pair, so they never agree on the system: per item (x, tie, y) = (1, 0, 1),
    # P_i = 0, p = (1/2, 0, 1/2), P_e = 1/2 -> kappa = (0 - 1/2) / (1 - 1/2) = -1
    assert results["q_vs_r"]["fleiss_kappa"]["value"] == pytest.approx(-1.0)
    # Cohen's kappa uses each rater's own label shares, which depend on the random first sides:
    # observed agreement 0 makes it -P_e / (1 - P_e): negative, or 0 when every pair drew the
    # same first side (then one rater said x throughout, the other y, and P_e = 0)
    assert results["q_vs_r"]["cohen_kappa"]["value"] <= 0
    assert results["q_vs_r"]["cohen_kappa"]["n"] == 4  # two raters rated every item
    bt = results["bradley_terry"]
    assert bt["p"]["value"] > bt["q"]["value"] and bt["p"]["value"] > bt["r"]["value"]
    assert len(records) == 12


def test_vote_rules(live_studio: LiveStudio) -> None:
    with live_studio.studio.db.transaction() as s:
        users = {u.name: u for u in s.scalars(select(User))}
        rnd = evaluation.import_round(s, f"rules-{live_studio.backend}", _systems(["a", "b"], 2), raters_per_pair=1)
        vote = evaluation.next_assignment(s, users["rater1"], rnd)
        assert evaluation.next_assignment(s, users["rater1"], rnd).id == vote.id  # the open one again
        with pytest.raises(workflow.NotFound):
            evaluation.cast_vote(s, users["rater2"], vote.id, "left")  # not theirs
        evaluation.cast_vote(s, users["rater1"], vote.id, "tie")
        with pytest.raises(workflow.Forbidden):
            evaluation.cast_vote(s, users["rater1"], vote.id, "left")  # once only
        second = evaluation.next_assignment(s, users["rater2"], rnd)
        assert second.pair_id != vote.pair_id  # k = 1: the first pair is full
        rnd.closed = True
        with pytest.raises(workflow.Forbidden):
            evaluation.cast_vote(s, users["rater2"], second.id, "left")
        assert evaluation.next_assignment(s, users["rater3"], rnd) is None
        with pytest.raises(DataError):
            evaluation.import_round(s, "bad", {"a": _systems(["a"])["a"], "b": _systems(["b"], 3)["b"]})


def test_a_crash_mid_action_leaves_nothing_half_written(live_studio: LiveStudio, monkeypatch) -> None:
    with live_studio.studio.db.transaction() as s:
        q = workflow.create_question(s, s.scalar(select(User).where(User.name == "mio")), "途中で失敗する操作の確認です。")
        qid = q.id
    answerer = live_studio.client("ren")
    page = answerer.get(f"/questions/{qid}").text

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash after the answer row was written")

    monkeypatch.setattr(workflow, "log", crash)  # the history write comes after the answer's INSERT
    r = answerer.post(f"/questions/{qid}/answers", data={"csrf": csrf_of(page), "answer": "保存されないはずの回答。"})
    assert r.status_code == 500
    monkeypatch.undo()
    with live_studio.studio.db.transaction() as s:
        assert s.scalar(select(Answer).where(Answer.question_id == qid)) is None
