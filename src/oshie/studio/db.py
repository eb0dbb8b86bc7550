"""The studio's tables (SQLAlchemy 2) and the engine/session helpers.

One schema for SQLite (the default, a file in the project directory) and PostgreSQL (a team
server): plain types only, created and upgraded by the Alembic migrations in
`oshie/studio/migrations`, never by `create_all`, so both databases go through the same steps.
Every edit of people's text is optimistic: rows carry a `version`, an update names the version
it read, and a stale one is a conflict (see `oshie.studio.workflow`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

ROLES = ("writer", "answerer", "checker", "admin")
# an answer's life: answered -> in_review -> approved | changes_requested (-> answered again)
ANSWER_STATES = ("answered", "in_review", "approved", "changes_requested")


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored naive UTC: same on SQLite and PostgreSQL


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class LoginSession(Base):
    """A signed-in browser: the cookie holds a random token, the table only its hash."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class LoginFailure(Base):
    """One failed sign-in, for throttling by name and by address."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=now, index=True)


class EditedText:
    """The columns of a row people write and edit: audit findings at the last save, the
    version an optimistic update names (a stale one is a conflict), and when."""

    findings: Mapped[int] = mapped_column(Integer, default=0)  # audit findings at the last save
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class Question(EditedText, Base):
    """An instruction (plus optional input) written by a question writer."""

    __tablename__ = "questions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instruction: Mapped[str] = mapped_column(Text)
    input: Mapped[str] = mapped_column(Text, default="")
    genre: Mapped[str] = mapped_column(String(80), default="")
    purpose: Mapped[str] = mapped_column(String(80), default="")
    writer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(200), default="")  # imported from (file, id)


class Answer(EditedText, Base):
    """One answer to a question by someone who did not write it; the unit a checker signs off."""

    __tablename__ = "answers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    reference_url: Mapped[str] = mapped_column(String(500), default="")
    writer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20), default="answered", index=True)
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    review_comment: Mapped[str] = mapped_column(Text, default="")


class History(Base):
    """Append-only: every change to people's work, with who, when, before and after (JSON)."""

    __tablename__ = "history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))  # question | answer | user | eval
    entity_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=now)


class EvalRound(Base):
    """A blind pairwise evaluation: systems' answers to the same prompts, k raters per pair."""

    __tablename__ = "eval_rounds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    raters_per_pair: Mapped[int] = mapped_column(Integer, default=3)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class EvalSystem(Base):
    __tablename__ = "eval_systems"
    __table_args__ = (UniqueConstraint("round_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("eval_rounds.id"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)  # import order (system_x comes first)


class EvalPrompt(Base):
    __tablename__ = "eval_prompts"
    __table_args__ = (UniqueConstraint("round_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("eval_rounds.id"))
    key: Mapped[str] = mapped_column(String(200))  # the task id of the answers files
    input: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(Text, default="")


class EvalOutput(Base):
    __tablename__ = "eval_outputs"
    __table_args__ = (UniqueConstraint("prompt_id", "system_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("eval_prompts.id"))
    system_id: Mapped[int] = mapped_column(ForeignKey("eval_systems.id"))
    answer: Mapped[str] = mapped_column(Text)


class EvalPair(Base):
    """Two systems' answers to one prompt; `left_first` randomises the first rater's order."""

    __tablename__ = "eval_pairs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("eval_rounds.id"), index=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("eval_prompts.id"))
    system_x_id: Mapped[int] = mapped_column(ForeignKey("eval_systems.id"))
    system_y_id: Mapped[int] = mapped_column(ForeignKey("eval_systems.id"))
    x_left_first: Mapped[bool] = mapped_column(Boolean)
    judge_outcome: Mapped[str | None] = mapped_column(String(10), nullable=True)  # LLM judge, for x


class EvalVote(Base):
    """One rater's assignment to one pair; `choice` (x | y | tie) is empty until they vote."""

    __tablename__ = "eval_votes"
    __table_args__ = (UniqueConstraint("pair_id", "rater_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("eval_pairs.id"), index=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    x_left: Mapped[bool] = mapped_column(Boolean)
    choice: Mapped[str | None] = mapped_column(String(10), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    voted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


def sqlite_url(project_dir: str | Path) -> str:
    return f"sqlite:///{Path(project_dir).resolve() / 'studio.db'}"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and enforced foreign keys so that
    concurrent requests wait for each other instead of failing."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            conn.isolation_level = None  # transactions begin explicitly (below)

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # type: ignore[no-untyped-def]
            # a writing action takes the write lock at its start, so two actions that read and
            # then write cannot deadlock; a read-only one reads a snapshot beside the writer (WAL)
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("oshie_readonly") else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Database:
    """An engine plus a session factory; `with db.transaction() as s:` is one atomic action."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(self.engine.execution_options(oshie_readonly=True), expire_on_commit=False)

    @contextmanager
    def transaction(self, readonly: bool = False) -> Iterator[Session]:
        """One atomic action. `readonly=True` promises no writes (on SQLite it then runs beside
        the writer instead of queueing for the write lock)."""
        with (self._readers if readonly else self._sessions)() as session, session.begin():
            yield session

    def upgrade(self) -> None:
        from oshie.studio.migrate import upgrade

        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
