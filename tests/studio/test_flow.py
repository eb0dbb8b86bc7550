"""The writer -> answerer -> checker flow in a real browser (headless Chromium via Playwright),
on SQLite and on PostgreSQL, ending in an XLSX export that names the three people."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from tests.studio.conftest import LiveStudio, csrf_of

from oshie.data import load_records


def test_writer_answerer_checker_flow_exports_people(sign_in, live_studio: LiveStudio, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    instruction = f"日本の梅雨について、小学生にも分かるように説明してください。（{tag}）"

    # 1. the question writer writes a question
    writer = sign_in("kaori")
    writer.goto("/questions/new")
    writer.select_option("select[name=genre]", "一般知識")
    writer.select_option("select[name=purpose]", "説明")
    writer.fill("textarea[name=instruction]", instruction)
    writer.screenshot(path=str(tmp_path / "1-writer.png"), full_page=True)
    writer.click("#save")
    writer.wait_for_url(re.compile(r".*/questions/\d+$"))
    qid = int(writer.url.rsplit("/", 1)[1])
    assert instruction in writer.content()
    # the writer gets no answer form, and the server refuses a forged answer
    assert writer.locator("textarea[name=answer]").count() == 0
    forged = writer.request.post(f"/questions/{qid}/answers",
                                 form={"answer": "自分で答えます。", "csrf": csrf_of(writer.content())})
    assert forged.status == 403

    # 2. a different person answers it
    answerer = sign_in("ren")
    answerer.goto("/")
    assert answerer.locator(f"#answer-queue a[href='/questions/{qid}']").count() == 1
    answerer.goto(f"/questions/{qid}")
    answerer.fill("textarea[name=answer]", "梅雨は、六月ごろに雨の日が続く季節です。")
    answerer.fill("input[name=reference_url]", "https://www.jma.go.jp/")
    answerer.screenshot(path=str(tmp_path / "2-answerer.png"), full_page=True)
    answerer.click("#save")
    answerer.wait_for_url(re.compile(r".*/answers/\d+$"))
    aid = int(answerer.url.rsplit("/", 1)[1])

    # 3. the checker requests changes ...
    checker = sign_in("sato")
    checker.goto(f"/answers/{aid}")
    checker.fill("textarea[name=comment]", "梅雨前線にも一言ふれてください。")
    checker.click("#request-changes")
    checker.wait_for_url(re.compile(r".*/$"))
    answerer.goto(f"/answers/{aid}")
    assert "梅雨前線にも一言ふれてください。" in answerer.locator("#review-comment").inner_text()
    # ... the answerer revises ...
    revised = "梅雨は、六月ごろに雨の日が続く季節です。梅雨前線という雨雲の帯が日本の上にとどまるためです。"
    answerer.fill("form[action$='/revise'] textarea[name=answer]", revised)
    answerer.click("form[action$='/revise'] #save")
    answerer.wait_for_url(re.compile(rf".*/answers/{aid}$"))
    # ... and the checker approves
    checker.goto(f"/answers/{aid}")
    assert revised in checker.content()
    checker.screenshot(path=str(tmp_path / "3-checker.png"), full_page=True)
    checker.click("#approve")
    checker.wait_for_url(re.compile(r".*/$"))
    answerer.goto(f"/answers/{aid}")
    assert answerer.locator("#state").inner_text() == "承認済み"

    # 4. export to Excel through the page; the record names the three people
    checker.goto("/export")
    checker.select_option("select[name=format]", "ichikara")
    checker.select_option("select[name=type]", "xlsx")
    with checker.expect_download() as download:
        checker.click("#export")
    xlsx = tmp_path / "export.xlsx"
    download.value.save_as(xlsx)
    records = {r.id: r for r in load_records(xlsx)}
    record = records[f"q{qid}-a{aid}"]
    assert record.instruction == instruction
    assert record.answer == revised
    meta = record.metadata
    assert (meta.question_writer, meta.answer_writer, meta.checker) == ("kaori", "ren", "sato")
    assert meta.category == "一般知識"
    assert getattr(meta, "output_reference", None) == "https://www.jma.go.jp/"
    for shot in ("1-writer.png", "2-answerer.png", "3-checker.png"):
        assert (tmp_path / shot).stat().st_size > 10_000


def test_history_is_append_only_record_of_the_flow(live_studio: LiveStudio) -> None:
    from sqlalchemy import select

    from oshie.studio import workflow
    from oshie.studio.db import History, User

    with live_studio.studio.db.transaction() as s:
        users = {u.name: u for u in s.scalars(select(User))}
        q = workflow.create_question(s, users["mio"], "秋の味覚を三つ挙げてください。")
        a = workflow.add_answer(s, users["ren"], q.id, "秋刀魚、栗、松茸です。")
        workflow.review(s, users["sato"], a.id, a.version, "request_changes", "理由も添えてください。")
        workflow.edit_answer(s, users["ren"], a.id, a.version, "秋刀魚、栗、松茸です。どれも秋に旬を迎えます。", "")
        workflow.review(s, users["sato"], a.id, a.version, "approve")
        rows = list(s.scalars(select(History).where(History.entity == "answer", History.entity_id == a.id)
                              .order_by(History.id)))
    assert [h.action for h in rows] == ["create", "request_changes", "revise", "approve"]
    assert '"changes_requested"' in rows[1].after and '"answered"' in rows[1].before
    assert "どれも秋に旬を迎えます" in rows[2].after and "どれも" not in rows[2].before
