"""Pages of blind pairwise evaluation: rate (names hidden), results (admins, or all once closed)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from oshie.studio import evaluation
from oshie.studio.db import EvalRound
from oshie.studio.web import Ctx, Routes
from oshie.studio.workflow import Forbidden, log

routes = Routes()


def open_rounds(s: Session) -> list[tuple[EvalRound, dict[str, int]]]:
    return [(r, evaluation.round_progress(s, r)) for r in s.scalars(select(EvalRound).order_by(EvalRound.id))]


@routes.get("/eval/{rid:int}", writes=True)
def rate_page(ctx: Ctx) -> Response:
    rnd = evaluation.get_round(ctx.s, ctx.int_param("rid"))
    vote = evaluation.next_assignment(ctx.s, ctx.me, rnd)
    view = evaluation.blind_view(ctx.s, vote) if vote else None
    return ctx.render("rate.html", rnd=rnd, view=view, progress=evaluation.round_progress(ctx.s, rnd))


@routes.get("/api/eval/{rid:int}/next", api=True, writes=True)
def rate_api(ctx: Ctx) -> Response:
    """The same blind view as JSON (for scripts and tests); never carries system identities."""
    rnd = evaluation.get_round(ctx.s, ctx.int_param("rid"))
    vote = evaluation.next_assignment(ctx.s, ctx.me, rnd)
    return JSONResponse({"pair": evaluation.blind_view(ctx.s, vote) if vote else None})


@routes.post("/eval/{rid:int}/vote")
def vote(ctx: Ctx) -> Response:
    rid = ctx.int_param("rid")
    evaluation.cast_vote(ctx.s, ctx.me, int(ctx.text("assignment") or 0), ctx.text("choice"), ctx.text("reason"))
    return ctx.redirect(f"/eval/{rid}")


@routes.get("/eval/{rid:int}/results")
def results_page(ctx: Ctx) -> Response:
    rnd = evaluation.get_round(ctx.s, ctx.int_param("rid"))
    if ctx.me.role != "admin" and not rnd.closed:
        raise Forbidden("results are shown once the round is closed")
    results, _records = evaluation.round_results(ctx.s, rnd)
    return ctx.render("results.html", rnd=rnd, results=results, progress=evaluation.round_progress(ctx.s, rnd))


@routes.post("/eval/{rid:int}/close")
def close_round(ctx: Ctx) -> Response:
    if ctx.me.role != "admin":
        raise Forbidden("only admins close a round")
    rnd = evaluation.get_round(ctx.s, ctx.int_param("rid"))
    rnd.closed = True
    log(ctx.s, "eval", rnd.id, ctx.me, "close", {"closed": False}, {"closed": True})
    return ctx.redirect(f"/eval/{rnd.id}/results")

