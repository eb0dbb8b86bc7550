"""oshie studio: the web app for people who write instruction data (question writers, answer
writers, checkers) and for blind pairwise human evaluation.

    db          tables (SQLAlchemy 2) + Alembic migrations; SQLite by default, PostgreSQL by URL
    auth        argon2 passwords, sessions, CSRF, sign-in throttling
    workflow    writer -> answerer -> checker rules, history, optimistic versions, export records
    audit       the live quality audit of drafts (oshie.data.check)
    evaluation  blind pairwise rounds, votes, results (oshie.eval metrics)
    web, pages_*  the Starlette application and its pages (Jinja2 templates, tiny JS)
"""

from __future__ import annotations

from pathlib import Path


def open_studio(project_dir: str | Path, db_url: str | None = None, *, secure_cookies: bool = False):  # type: ignore[no-untyped-def]
    """The studio of a project directory, its database migrated to the current schema."""
    from oshie.studio.db import Database
    from oshie.studio.project import database_url, load_project
    from oshie.studio.web import Studio

    config = load_project(project_dir)
    db = Database(database_url(project_dir, db_url))
    db.upgrade()
    return Studio(db, config, secure_cookies=secure_cookies)


def serve(project_dir: str | Path, db_url: str | None = None, host: str = "127.0.0.1", port: int = 8765,
          on_ready=None, secure_cookies: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Run the studio with uvicorn until interrupted."""
    import uvicorn

    from oshie.studio.web import create_app

    studio = open_studio(project_dir, db_url, secure_cookies=secure_cookies)
    app = create_app(studio)
    if on_ready is not None:
        on_ready(f"http://{host}:{port}/")
    uvicorn.run(app, host=host, port=port, log_level="warning")
