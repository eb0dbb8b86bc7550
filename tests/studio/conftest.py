"""Studio fixtures: a live studio (uvicorn on 127.0.0.1, a free port) per database backend,
SQLite and a real PostgreSQL the session starts itself, one headless Chromium for the session,
and signed-in browser pages / HTTP clients per person."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.browser import playwright_chromium
from tests.support.postgres import SKIP_REASON, PostgresServer, free_port, start_postgres

pytest.importorskip("sqlalchemy", reason="studio extra not installed")
pytest.importorskip("starlette", reason="studio extra not installed")


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> None:
    from oshie.studio.auth import use_cheap_hashing

    use_cheap_hashing()

PASSWORD = "correct-horse-42"
PEOPLE = {"kaori": "writer", "ren": "answerer", "sato": "checker", "boss": "admin",
          "rater1": "answerer", "rater2": "answerer", "rater3": "answerer", "mio": "writer",
          "tomo": "writer"}  # tomo: only the throttling test signs in (and fails) as tomo
BACKENDS = ["sqlite", "postgresql"]


@dataclass
class LiveStudio:
    backend: str
    url: str
    project: Path
    studio: Any  # oshie.studio.web.Studio (same database as the server)
    server: Any

    def client(self, name: str | None = None) -> httpx.Client:
        """An HTTP client, signed in as `name` when given, with the CSRF cookie set."""
        c = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        page = c.get("/login")
        if name is not None:
            r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"})
            assert r.status_code == 303, r.text
        return c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    if server is None:
        pytest.skip(SKIP_REASON)
    yield server
    server.stop()


def _start(project: Path, db_url: str | None, backend: str) -> LiveStudio:
    import uvicorn

    from oshie.studio import open_studio
    from oshie.studio.auth import add_user
    from oshie.studio.project import init_project
    from oshie.studio.web import create_app

    init_project(project)
    studio = open_studio(project, db_url)
    with studio.db.transaction() as s:
        for name, role in PEOPLE.items():
            add_user(s, name, PASSWORD, role)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(studio), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("studio server did not start")
        time.sleep(0.05)
    server._thread = thread  # type: ignore[attr-defined]
    return LiveStudio(backend, f"http://127.0.0.1:{port}", project, studio, server)


@pytest.fixture(scope="session", params=BACKENDS)
def live_studio(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStudio]:
    backend = request.param
    db_url = None
    if backend == "postgresql":
        pg: PostgresServer = request.getfixturevalue("postgres")
        db_url = pg.create_database("studio_tests")
    live = _start(tmp_path_factory.mktemp(f"studio-{backend}"), db_url, backend)
    yield live
    live.server.should_exit = True
    live.server._thread.join(timeout=10)
    live.studio.db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Not per session: Playwright's sync API keeps an event loop
    running in the main thread while it is open, and later tests (outside tests/studio) that
    call asyncio.run() would fail."""
    with playwright_chromium() as b:
        yield b


@pytest.fixture
def sign_in(browser: Any, live_studio: LiveStudio) -> Iterator[Any]:
    """sign_in(name) -> a Page of a fresh browser context, signed in as that person."""
    contexts = []

    def _sign_in(name: str, lang: str = "ja") -> Any:
        ctx = browser.new_context(base_url=live_studio.url, locale="ja-JP", accept_downloads=True,
                                  viewport={"width": 1200, "height": 900})
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15000)
        page.goto("/login")
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", PASSWORD)
        page.click("#login")
        page.wait_for_url(re.compile(r".*/$"))
        return page

    yield _sign_in
    for ctx in contexts:
        ctx.close()
