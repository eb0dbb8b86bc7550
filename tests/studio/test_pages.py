"""Pages without a browser: language switch, progress numbers, checker edits, sign-out, user admin."""

from __future__ import annotations

import re

from sqlalchemy import select
from tests.studio.conftest import PASSWORD, LiveStudio, csrf_of

from oshie.studio import workflow
from oshie.studio.db import User


def test_japanese_first_english_switchable(live_studio: LiveStudio) -> None:
    c = live_studio.client("kaori")
    assert "質問を書く" in c.get("/").text
    r = c.get("/lang", params={"to": "en", "next": "/questions/new"})
    assert r.status_code == 303 and r.headers["location"] == "/questions/new"
    page = c.get("/questions/new").text
    assert "Write a question" in page and 'lang="en"' in page and "質問を書く" not in page


def test_checker_edit_approves_and_dashboard_counts_it(live_studio: LiveStudio) -> None:
    with live_studio.studio.db.transaction() as s:
        users = {u.name: u for u in s.scalars(select(User))}
        q = workflow.create_question(s, users["mio"], "俳句の季語とは何ですか。", genre="文章作成", purpose="説明")
        a = workflow.add_answer(s, users["ren"], q.id, "季節を表す言葉です")
        qid, aid, version = q.id, a.id, a.version
    checker = live_studio.client("sato")
    page = checker.get(f"/answers/{aid}").text
    assert "チェック中" in page  # opening it marks it in review
    version = int(re.search(r'name="version" value="(\d+)"', page).group(1))
    r = checker.post(f"/answers/{aid}/review", data={"csrf": csrf_of(page), "version": str(version),
                                                      "action": "edit", "answer": "季節を表す言葉です。"})
    assert r.status_code == 303
    with live_studio.studio.db.transaction() as s:
        a = workflow.get_answer(s, aid)
        assert (a.state, a.text, a.checker_id) == ("approved", "季節を表す言葉です。", users["sato"].id)
        (record,) = [r for r in workflow.approved_records(s) if r.id == f"q{qid}-a{aid}"]
        assert record.metadata.checker == "sato" and record.metadata.purpose == "説明"
    dash = checker.get("/dashboard").text
    row = re.search(r"<td>文章作成</td><td>(\d+)</td><td>(\d+)</td><td>20</td>", dash)
    assert row and int(row.group(2)) >= 1  # approved against the target of 20 in studio.yaml


def test_sign_out_ends_the_session(live_studio: LiveStudio) -> None:
    c = live_studio.client("ren")
    page = c.get("/")
    assert page.status_code == 200
    session = c.cookies.get("oshie_session")
    assert c.post("/logout", data={"csrf": csrf_of(page.text)}).status_code == 303
    stale = live_studio.client()
    stale.cookies.set("oshie_session", session)
    assert stale.get("/").status_code == 303  # the old token no longer signs anyone in


def test_admin_adds_a_user_who_can_sign_in(live_studio: LiveStudio) -> None:
    admin = live_studio.client("boss")
    page = admin.get("/users").text
    r = admin.post("/users", data={"csrf": csrf_of(page), "name": f"new-{live_studio.backend}",
                                   "password": PASSWORD, "role": "checker"})
    assert r.status_code == 303
    assert live_studio.client(f"new-{live_studio.backend}").get("/export").status_code == 200
    r = admin.post("/users", data={"csrf": csrf_of(page), "name": "short", "password": "x", "role": "writer"})
    assert r.status_code == 400 and "8 characters" in r.text
