"""Security: no anonymous reads or writes, CSRF on every POST, escaped output, throttled
sign-in, cookie flags, role checks."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from tests.studio.conftest import PASSWORD, LiveStudio, csrf_of

from oshie.studio import pages_admin, pages_eval, pages_work
from oshie.studio.db import Question

ROUTES = [(r.path, r.method, r.api) for m in (pages_work, pages_eval, pages_admin) for r in m.routes]
PUBLIC = {"/login", "/lang"}


def _url(path: str) -> str:
    return re.sub(r"\{\w+:int\}", "1", path)


def test_every_route_needs_a_session(live_studio: LiveStudio) -> None:
    anon = live_studio.client()
    csrf = anon.cookies.get("oshie_csrf")
    checked = 0
    for path, method, api in ROUTES:
        if path in PUBLIC:
            continue
        if method == "POST":  # even with a valid CSRF token, no session means no write
            r = anon.post(_url(path), data={"csrf": csrf, "instruction": "x", "answer": "x"})
            assert r.status_code == 401, (path, r.status_code)
        elif api:
            assert anon.get(_url(path)).status_code == 401, path
        else:
            r = anon.get(_url(path))
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        checked += 1
    assert checked >= 15
    with live_studio.studio.db.transaction() as s:  # nothing was written
        assert s.scalar(select(Question).where(Question.instruction == "x")) is None


def test_every_post_needs_the_csrf_token(live_studio: LiveStudio) -> None:
    admin = live_studio.client("boss")
    for path, method, _ in ROUTES:
        if method != "POST":
            continue
        r = admin.post(_url(path), data={"instruction": "csrfなし", "answer": "csrfなし", "name": "boss",
                                         "password": PASSWORD})
        assert r.status_code == 403, (path, r.status_code)
        r = admin.post(_url(path), data={"instruction": "偽のトークン", "csrf": "forged"})
        assert r.status_code == 403, path
    assert admin.post("/api/check", json={"instruction": "テスト"}).status_code == 403
    with live_studio.studio.db.transaction() as s:
        assert s.scalar(select(Question).where(Question.instruction.in_(["csrfなし", "偽のトークン"]))) is None


PAYLOAD = "Robert'); DROP TABLE questions; -- <script>alert('xss')</script> \" onmouseover=\"alert(1)"


def test_injection_strings_are_stored_verbatim_and_rendered_escaped(live_studio: LiveStudio) -> None:
    writer = live_studio.client("kaori")
    page = writer.get("/questions/new")
    r = writer.post("/questions", data={"csrf": csrf_of(page.text), "instruction": PAYLOAD, "input": PAYLOAD,
                                        "genre": "創作", "purpose": "作成"})
    assert r.status_code == 303
    qid = int(r.headers["location"].rsplit("/", 1)[1])
    with live_studio.studio.db.transaction() as s:
        q = s.get(Question, qid)
        assert q is not None and q.instruction == PAYLOAD and q.input == PAYLOAD  # verbatim, table intact
    for who in ("kaori", "ren"):
        html = live_studio.client(who).get(f"/questions/{qid}").text
        assert "<script>alert" not in html and "onmouseover=\"alert" not in html
        assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
    home = writer.get("/").text
    assert "<script>alert" not in home


def test_login_is_throttled_and_cookies_are_flagged(live_studio: LiveStudio) -> None:
    c = live_studio.client()
    csrf = c.cookies.get("oshie_csrf")
    assert csrf
    for _ in range(5):
        r = c.post("/login", data={"name": "tomo", "password": "wrong-password", "csrf": csrf})
        assert r.status_code == 401
    r = c.post("/login", data={"name": "tomo", "password": PASSWORD, "csrf": csrf})
    assert r.status_code == 429  # even the right password waits out the window
    ok = live_studio.client()
    r = ok.post("/login", data={"name": "sato", "password": PASSWORD, "csrf": ok.cookies.get("oshie_csrf"),
                                "next": "//evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
    cookie = r.headers["set-cookie"].lower()
    assert "oshie_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "script-src 'self'" in r.headers["content-security-policy"]


@pytest.mark.parametrize(("who", "path", "data"), [
    ("kaori", "/users", {"name": "intruder", "password": "password123", "role": "admin"}),
    ("ren", "/questions", {"instruction": "回答者は質問を書けない"}),
    ("kaori", "/eval/1/close", {}),
])
def test_roles_are_enforced(live_studio: LiveStudio, who: str, path: str, data: dict[str, str]) -> None:
    c = live_studio.client(who)
    r = c.post(path, data={**data, "csrf": c.cookies.get("oshie_csrf")})
    assert r.status_code == 403
    assert c.get("/users").status_code == 403
