"""The studio's web application (Starlette): one wrapper around every page and API call.

`action(fn)` gives each endpoint the same steps, so no route can forget one:
1. read the form or JSON body (async), then run the rest in a worker thread;
2. one database transaction for the whole action (a crash leaves nothing half-written);
3. the signed-in user from the session cookie; without one a page redirects to the sign-in
   and a write (or an API call) gets 401;
4. on POST the CSRF token must match (403 otherwise);
5. workflow errors become pages: Forbidden 403, NotFound 404, Conflict 409 (with both
   versions; the losing text is kept in the history), other OshieErrors 400.

Each page module declares its URLs beside their handlers with a `Routes` registry
(`@routes.get("/login", public=True)`); `create_app` registers them in that order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from oshie.errors import OshieError
from oshie.studio.auth import CSRF_COOKIE, SESSION_COOKIE, csrf_ok, new_token, session_user
from oshie.studio.db import Database, User
from oshie.studio.i18n import LANGUAGES, translator
from oshie.studio.project import StudioConfig
from oshie.studio.workflow import Conflict, Forbidden, NotFound, record_conflict

LANG_COOKIE = "oshie_lang"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class Studio:
    """What every action needs: the database, the project settings and the templates."""

    db: Database
    config: StudioConfig
    secure_cookies: bool = False
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        templates = str(resources.files("oshie.studio") / "templates")
        self.env = Environment(loader=FileSystemLoader(templates), autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True)


@dataclass
class Ctx:
    """One request inside its transaction."""

    request: Request
    s: Session
    studio: Studio
    user: User | None
    form: dict[str, Any]
    lang: str
    csrf: str
    cookies: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def me(self) -> User:
        assert self.user is not None
        return self.user

    def int_param(self, name: str) -> int:
        try:
            return int(self.request.path_params.get(name, self.form.get(name)))
        except (TypeError, ValueError):
            raise NotFound(f"bad {name}") from None

    def text(self, name: str) -> str:
        value = self.form.get(name, "")
        return value if isinstance(value, str) else ""

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.studio.env.get_template(template).render(
            _=translator(self.lang), lang=self.lang, user=self.user, csrf=self.csrf,
            config=self.studio.config, path=self.request.url.path, **context)
        return HTMLResponse(html, status_code=status)

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)


Handler = Callable[[Ctx], Response]


@dataclass
class RouteSpec:
    """One URL of a page module: its path, HTTP method, handler and the options of `action`."""

    path: str
    method: str
    public: bool = False
    writes: bool = False
    api: bool = False
    handler: Handler | None = None


class Routes:
    """The URLs of one page module, each declared by a decorator right above its handler:

        routes = Routes()

        @routes.get("/login", public=True)
        def login_page(ctx: Ctx) -> Response: ...

    Decorators stack when one handler serves two URLs. Starlette tries routes in order, so
    the order is the order the decorator lines are written in (top to bottom, also within
    a stack). `public` opens a URL to visitors without a session, `writes` lets a GET
    write, `api` answers errors as JSON (see `action`)."""

    def __init__(self) -> None:
        self._specs: list[RouteSpec] = []

    def get(self, path: str, *, public: bool = False, writes: bool = False,
            api: bool = False) -> Callable[[Handler], Handler]:
        return self._declare(RouteSpec(path, "GET", public=public, writes=writes, api=api))

    def post(self, path: str, *, public: bool = False, api: bool = False) -> Callable[[Handler], Handler]:
        return self._declare(RouteSpec(path, "POST", public=public, api=api))

    def _declare(self, spec: RouteSpec) -> Callable[[Handler], Handler]:
        # the spec takes its place now, when the decorator line is read (stacked decorators
        # are read top to bottom but applied bottom to top), and its handler when applied
        self._specs.append(spec)

        def register(fn: Handler) -> Handler:
            spec.handler = fn
            return fn

        return register

    def __iter__(self) -> Iterator[RouteSpec]:
        return iter(self._specs)


def _cookie(studio: Studio, response: Response, name: str, value: str, **kw: Any) -> None:
    response.set_cookie(name, value, httponly=True, samesite=kw.pop("samesite", "lax"),
                        secure=studio.secure_cookies, path="/", **kw)


def _error(ctx: Ctx, status: int, message: str, api: bool) -> Response:
    if api:
        return JSONResponse({"error": message}, status_code=status)
    return ctx.render("error.html", status=status, message=message)


def action(studio: Studio, fn: Handler, *, public: bool = False, api: bool = False,  # type: ignore[no-untyped-def]
           writes: bool = False):
    """Wrap a sync handler into an endpoint with the steps in the module docstring. GET
    handlers are read-only unless `writes` (e.g. opening a review marks it in_review)."""

    async def endpoint(request: Request) -> Response:
        form: dict[str, Any] = {}
        if request.method == "POST":
            if request.headers.get("content-type", "").startswith("application/json"):
                try:
                    body = await request.json()
                except ValueError:
                    return JSONResponse({"error": "invalid JSON"}, status_code=400)
                form = body if isinstance(body, dict) else {}
            else:
                form = dict(await request.form())
        readonly = request.method == "GET" and not writes
        response = await run_in_threadpool(_run, studio, fn, request, form, public, api, readonly)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return endpoint


def _run(studio: Studio, fn: Handler, request: Request, form: dict[str, Any], public: bool, api: bool,
         readonly: bool) -> Response:
    csrf = request.cookies.get(CSRF_COOKIE) or ""
    new_csrf = not csrf
    if new_csrf:
        csrf = new_token()
    lang = request.cookies.get(LANG_COOKIE, studio.config.language)
    lang = lang if lang in LANGUAGES else "ja"
    conflict: tuple[int, Conflict] | None = None
    try:
        with studio.db.transaction(readonly) as s:
            ctx = Ctx(request, s, studio, session_user(s, request.cookies.get(SESSION_COOKIE)), form, lang, csrf)
            if ctx.user is None and not public:
                if request.method == "GET" and not api:
                    response: Response = ctx.redirect("/login?next=" + quote(request.url.path))
                else:
                    response = _error(ctx, 401, translator(lang)("sign_in_needed"), api)
            elif request.method == "POST" and not csrf_ok(request.cookies.get(CSRF_COOKIE),
                                                          form.get("csrf") or request.headers.get("x-csrf-token")):
                response = _error(ctx, 403, "CSRF token missing or wrong: reload the page and try again", api)
            else:
                try:
                    response = fn(ctx)
                except Conflict as exc:
                    conflict = (ctx.me.id, exc)
                    raise
    except Conflict:
        assert conflict is not None
        with studio.db.transaction() as s:
            user = s.get(User, conflict[0])
            assert user is not None
            record_conflict(s, user, conflict[1])
            ctx = Ctx(request, s, studio, user, form, lang, csrf)
            if api:
                response = JSONResponse({"error": "conflict", "theirs": conflict[1].theirs,
                                         "mine": conflict[1].mine}, status_code=409)
            else:
                response = ctx.render("conflict.html", status=409, theirs=conflict[1].theirs,
                                      mine=conflict[1].mine, back=request.headers.get("referer", "/"))
    except (Forbidden, NotFound, OshieError) as exc:
        status = 403 if isinstance(exc, Forbidden) else 404 if isinstance(exc, NotFound) else 400
        with studio.db.transaction(readonly=True) as s:
            user = session_user(s, request.cookies.get(SESSION_COOKIE))
            response = _error(Ctx(request, s, studio, user, form, lang, csrf), status, exc.render(), api)
    if new_csrf:
        _cookie(studio, response, CSRF_COOKIE, csrf, samesite="strict")
    for name, value, kw in getattr(ctx, "cookies", []):
        _cookie(studio, response, name, value, **kw)
    return response


def create_app(studio: Studio) -> Starlette:
    from oshie.studio import pages_admin, pages_eval, pages_work

    routes: list[Route | Mount] = []
    for module in (pages_work, pages_eval, pages_admin):
        for spec in module.routes:
            assert spec.handler is not None, f"{spec.path}: a route decorator without its handler"
            endpoint = action(studio, spec.handler, public=spec.public, writes=spec.writes, api=spec.api)
            routes.append(Route(spec.path, endpoint, methods=[spec.method]))
    static = str(resources.files("oshie.studio") / "static")
    routes.append(Mount("/static", StaticFiles(directory=static), name="static"))
    app = Starlette(routes=routes)
    app.state.studio = studio
    return app
