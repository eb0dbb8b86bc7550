"""User administration (admins only)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import Response

from oshie.studio import auth
from oshie.studio.db import ROLES, User
from oshie.studio.web import Ctx, Routes
from oshie.studio.workflow import Forbidden, log

routes = Routes()


def _admin(ctx: Ctx) -> None:
    if ctx.me.role != "admin":
        raise Forbidden("only admins manage users")


@routes.get("/users")
def users_page(ctx: Ctx) -> Response:
    _admin(ctx)
    return ctx.render("users.html", users=list(ctx.s.scalars(select(User).order_by(User.id))), roles=ROLES)


@routes.post("/users")
def add_user(ctx: Ctx) -> Response:
    _admin(ctx)
    user = auth.add_user(ctx.s, ctx.text("name"), ctx.text("password"), ctx.text("role"))
    log(ctx.s, "user", user.id, ctx.me, "create", None, {"name": user.name, "role": user.role})
    return ctx.redirect("/users")

