"""Create or upgrade a studio database with its Alembic migrations (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from importlib import resources

from sqlalchemy.engine import Engine


def alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    """An Alembic config pointing at the shipped migrations and at `engine` (no alembic.ini)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("oshie.studio") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
