"""The route registry: URLs are declared beside their handlers and registered in the order written."""

from __future__ import annotations

from starlette.responses import Response

from oshie.studio.web import Ctx, Routes


def test_routes_keep_the_order_the_decorators_are_written_in() -> None:
    routes = Routes()

    @routes.get("/a/new", public=True)
    @routes.get("/a/{n:int}/edit")
    def form(ctx: Ctx) -> Response:
        return Response()

    @routes.post("/a", api=True)
    def create(ctx: Ctx) -> Response:
        return Response()

    got = [(r.path, r.method, r.handler, r.public, r.writes, r.api) for r in routes]
    assert got == [("/a/new", "GET", form, True, False, False),
                   ("/a/{n:int}/edit", "GET", form, False, False, False),
                   ("/a", "POST", create, False, False, True)]
