"""Two people saving the same item at once: one save wins, the other gets a conflict page with
both versions, and the losing text is kept in the history (nothing typed is lost)."""

from __future__ import annotations

import json
import re
import threading

from sqlalchemy import select
from tests.studio.conftest import LiveStudio, csrf_of

from oshie.studio.db import History, Question


def test_two_concurrent_edits_one_conflict_both_texts_kept(live_studio: LiveStudio) -> None:
    a, b = live_studio.client("kaori"), live_studio.client("kaori")  # two tabs / two devices
    page = a.get("/questions/new")
    r = a.post("/questions", data={"csrf": csrf_of(page.text), "instruction": "元の質問です。"})
    qid = int(r.headers["location"].rsplit("/", 1)[1])
    forms = []
    for c in (a, b):
        html = c.get(f"/questions/{qid}/edit").text
        version = re.search(r'name="version" value="(\d+)"', html).group(1)
        forms.append((c, csrf_of(html), version))
    texts = ["タブAで直した質問です。", "タブBで直した質問です。"]
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def save(i: int) -> None:
        c, csrf, version = forms[i]
        barrier.wait()
        results[i] = c.post(f"/questions/{qid}/edit", data={"csrf": csrf, "version": version,
                                                              "instruction": texts[i]})

    threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results.values())
    assert codes == [303, 409]
    winner = next(i for i, r in results.items() if r.status_code == 303)
    loser = 1 - winner
    page = results[loser].text
    assert texts[winner] in page and texts[loser] in page  # both versions shown
    with live_studio.studio.db.transaction() as s:
        q = s.get(Question, qid)
        assert q.instruction == texts[winner] and q.version == 2
        rows = list(s.scalars(select(History).where(History.entity == "question", History.entity_id == qid)
                              .order_by(History.id)))
    assert [h.action for h in rows] == ["create", "edit", "conflict"]
    assert json.loads(rows[2].after)["instruction"] == texts[loser]  # the losing text is kept
    assert json.loads(rows[2].before)["instruction"] == texts[winner]


def test_stale_review_conflicts_with_a_revision(live_studio: LiveStudio) -> None:
    from oshie.studio import workflow
    from oshie.studio.db import User

    with live_studio.studio.db.transaction() as s:
        users = {u.name: u for u in s.scalars(select(User))}
        q = workflow.create_question(s, users["mio"], "冬の季語を一つ挙げてください。")
        ans = workflow.add_answer(s, users["ren"], q.id, "雪です。")
        aid, version = ans.id, ans.version
    with live_studio.studio.db.transaction() as s:
        workflow.edit_answer(s, users["ren"], aid, version, "雪です。冬の代表的な季語です。", "")
    try:
        with live_studio.studio.db.transaction() as s:
            workflow.review(s, users["sato"], aid, version, "approve")  # opened before the revision
        raise AssertionError("a stale approval must conflict")
    except workflow.Conflict as exc:
        assert exc.theirs["text"] == "雪です。冬の代表的な季語です。"
    with live_studio.studio.db.transaction() as s:
        assert workflow.get_answer(s, aid).state == "answered"  # nothing half-applied
