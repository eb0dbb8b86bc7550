"""Pages of the writing flow: sign-in, questions, answers, reviews, export, progress, live audit."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from oshie.data import write_records
from oshie.data.formats import FORMATS
from oshie.errors import UsageError
from oshie.studio import auth, workflow
from oshie.studio.audit import audit_draft
from oshie.studio.dashboard import progress_numbers
from oshie.studio.db import Answer, History, Question
from oshie.studio.i18n import check_label
from oshie.studio.pages_eval import open_rounds
from oshie.studio.web import LANG_COOKIE, Ctx, Routes

EXPORT_TYPES = {"xlsx": ".xlsx", "jsonl": ".jsonl", "csv": ".csv", "csv-cp932": ".csv", "json": ".json"}

routes = Routes()


def _local(url: str) -> str:
    """Only same-site paths are redirect targets (no open redirect through ?next=)."""
    p = urlparse(url)
    return url if url.startswith("/") and not url.startswith("//") and not p.netloc else "/"


@routes.get("/login", public=True)
def login_page(ctx: Ctx) -> Response:
    return ctx.render("login.html", next=_local(ctx.request.query_params.get("next", "/")))


@routes.post("/login", public=True)
def login(ctx: Ctx) -> Response:
    name, password = ctx.text("name"), ctx.text("password")
    address = ctx.request.client.host if ctx.request.client else "-"
    nxt = _local(ctx.text("next") or "/")
    if auth.throttled(ctx.s, name, address):
        return ctx.render("login.html", status=429, error="throttled", next=nxt)
    signed = auth.sign_in(ctx.s, name, password, address)
    if signed is None:
        return ctx.render("login.html", status=401, error="login_failed", next=nxt)
    ctx.cookies.append((auth.SESSION_COOKIE, signed[1], {"max_age": auth.SESSION_DAYS * 86400}))
    return ctx.redirect(nxt)


@routes.post("/logout")
def logout(ctx: Ctx) -> Response:
    auth.sign_out(ctx.s, ctx.request.cookies.get(auth.SESSION_COOKIE))
    response = ctx.redirect("/login")
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@routes.get("/lang", public=True)
def switch_language(ctx: Ctx) -> Response:
    lang = ctx.request.query_params.get("to", "ja")
    ctx.cookies.append((LANG_COOKIE, lang if lang in ("ja", "en") else "ja", {"max_age": 365 * 86400}))
    return ctx.redirect(_local(ctx.request.query_params.get("next", "/")))


@routes.get("/")
def home(ctx: Ctx) -> Response:
    me = ctx.me
    mine = list(ctx.s.scalars(select(Question).where(Question.writer_id == me.id)
                              .order_by(Question.id.desc()).limit(50)))
    my_answers = list(ctx.s.scalars(select(Answer).where(Answer.writer_id == me.id)
                                    .order_by(Answer.id.desc()).limit(50)))
    queue = workflow.answer_queue(ctx.s, me) if me.role in workflow.CAN_ANSWER else []
    reviews = workflow.review_queue(ctx.s, me) if me.role in workflow.CAN_CHECK else []
    return ctx.render("home.html", mine=mine, my_answers=my_answers, queue=queue, reviews=reviews,
                      rounds=open_rounds(ctx.s))


def _findings_count(ctx: Ctx, instruction: str, input_text: str, answer: str = "", **ids: int | None) -> int:
    """Findings at save time (for the finding rates); near-duplicates are the live audit's job,
    so a save stays cheap however large the project grows."""
    return len(audit_draft(ctx.s, instruction, input_text, answer, near_duplicates=False, **ids))


@routes.get("/questions/new")
@routes.get("/questions/{qid:int}/edit")
def question_form(ctx: Ctx) -> Response:
    workflow.require_role(ctx.me, workflow.CAN_WRITE)
    qid = ctx.request.path_params.get("qid")
    q = workflow.get_question(ctx.s, int(qid)) if qid else None
    return ctx.render("write.html", q=q)


@routes.post("/questions")
def create_question(ctx: Ctx) -> Response:
    instruction, input_text = ctx.text("instruction"), ctx.text("input")
    q = workflow.create_question(ctx.s, ctx.me, instruction, input_text, ctx.text("genre"), ctx.text("purpose"),
                                 findings=_findings_count(ctx, instruction, input_text))
    return ctx.redirect(f"/questions/{q.id}")


@routes.post("/questions/{qid:int}/edit")
def edit_question(ctx: Ctx) -> Response:
    qid = ctx.int_param("qid")
    instruction, input_text = ctx.text("instruction"), ctx.text("input")
    workflow.edit_question(ctx.s, ctx.me, qid, int(ctx.text("version") or 0), instruction, input_text,
                           ctx.text("genre"), ctx.text("purpose"),
                           findings=_findings_count(ctx, instruction, input_text, question_id=qid))
    return ctx.redirect(f"/questions/{qid}")


def _history(ctx: Ctx, entity: str, entity_id: int) -> list[tuple[History, str]]:
    rows = list(ctx.s.scalars(select(History).where(History.entity == entity, History.entity_id == entity_id)
                              .order_by(History.id)))
    people = workflow.names(ctx.s, [h.user_id for h in rows])
    return [(h, people.get(h.user_id or -1, "-")) for h in rows]


@routes.get("/questions/{qid:int}")
def question_page(ctx: Ctx) -> Response:
    q = workflow.get_question(ctx.s, ctx.int_param("qid"))
    answers = list(ctx.s.scalars(select(Answer).where(Answer.question_id == q.id).order_by(Answer.id)))
    people = workflow.names(ctx.s, [q.writer_id, *(a.writer_id for a in answers), *(a.checker_id for a in answers)])
    can_answer = ctx.me.role in workflow.CAN_ANSWER and q.writer_id != ctx.me.id
    return ctx.render("question.html", q=q, answers=answers, people=people, can_answer=can_answer,
                      history=_history(ctx, "question", q.id))


@routes.post("/questions/{qid:int}/answers")
def add_answer(ctx: Ctx) -> Response:
    qid = ctx.int_param("qid")
    q = workflow.get_question(ctx.s, qid)
    text = ctx.text("answer")
    a = workflow.add_answer(ctx.s, ctx.me, qid, text, ctx.text("reference_url"),
                            findings=_findings_count(ctx, q.instruction, q.input, text, question_id=qid))
    return ctx.redirect(f"/answers/{a.id}")


@routes.get("/answers/{aid:int}", writes=True)
def answer_page(ctx: Ctx) -> Response:
    a = workflow.get_answer(ctx.s, ctx.int_param("aid"))
    if ctx.me.role in workflow.CAN_CHECK and a.writer_id != ctx.me.id:
        workflow.start_review(ctx.s, ctx.me, a.id)
    q = workflow.get_question(ctx.s, a.question_id)
    people = workflow.names(ctx.s, [q.writer_id, a.writer_id, a.checker_id])
    can_review = (ctx.me.role in workflow.CAN_CHECK and a.writer_id != ctx.me.id
                  and a.state in ("answered", "in_review"))
    can_revise = a.writer_id == ctx.me.id and a.state != "approved"
    return ctx.render("answer.html", q=q, a=a, people=people, can_review=can_review, can_revise=can_revise,
                      history=_history(ctx, "answer", a.id))


@routes.post("/answers/{aid:int}/revise")
def revise_answer(ctx: Ctx) -> Response:
    aid = ctx.int_param("aid")
    a = workflow.get_answer(ctx.s, aid)
    q = workflow.get_question(ctx.s, a.question_id)
    text = ctx.text("answer")
    workflow.edit_answer(ctx.s, ctx.me, aid, int(ctx.text("version") or 0), text, ctx.text("reference_url"),
                         findings=_findings_count(ctx, q.instruction, q.input, text, question_id=q.id, answer_id=aid))
    return ctx.redirect(f"/answers/{aid}")


@routes.post("/answers/{aid:int}/review")
def review_answer(ctx: Ctx) -> Response:
    aid = ctx.int_param("aid")
    workflow.review(ctx.s, ctx.me, aid, int(ctx.text("version") or 0), ctx.text("action"),
                    ctx.text("comment"), ctx.text("answer") or None)
    return ctx.redirect("/")


@routes.get("/export")
def export_page(ctx: Ctx) -> Response:
    workflow.require_role(ctx.me, workflow.CAN_CHECK)
    fmt = ctx.request.query_params.get("format")
    if not fmt:
        count = len(workflow.approved_records(ctx.s))
        return ctx.render("export.html", formats=sorted(FORMATS), types=list(EXPORT_TYPES), count=count)
    kind = ctx.request.query_params.get("type", "jsonl")
    if fmt not in FORMATS or kind not in EXPORT_TYPES:
        raise UsageError(f"unknown format or file type: {fmt} / {kind}")
    records = workflow.approved_records(ctx.s, ctx.studio.config.name)
    with tempfile.TemporaryDirectory(prefix="oshie-studio-export-") as tmp:
        path = Path(tmp) / f"studio-{fmt}{EXPORT_TYPES[kind]}"
        write_records(path, records, fmt, encoding="cp932" if kind == "csv-cp932" else "utf-8")
        data = path.read_bytes()
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{path.name}"'})


@routes.get("/dashboard")
def dashboard(ctx: Ctx) -> Response:
    return ctx.render("dashboard.html", numbers=progress_numbers(ctx.s, ctx.studio.config))


@routes.post("/api/check", api=True)
def api_check(ctx: Ctx) -> Response:
    def ident(name: str) -> int | None:
        v = ctx.form.get(name)
        return int(v) if isinstance(v, int | str) and str(v).isdigit() else None

    findings = audit_draft(ctx.s, ctx.text("instruction"), ctx.text("input"), ctx.text("answer"),
                           question_id=ident("question_id"), answer_id=ident("answer_id"))
    for f in findings:
        f["label"] = check_label(f["check"], ctx.lang)
    return JSONResponse({"findings": findings})

