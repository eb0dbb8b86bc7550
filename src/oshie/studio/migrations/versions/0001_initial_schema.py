"""Initial schema: users, sessions, login throttling, questions, answers, history, blind evaluation.

Revision ID: 0001
Revises: (none)

Every table has an integer primary key `id`, its columns are NOT NULL unless marked
`nullable`, and a `_ref` column carries its foreign key; the helpers below spell that once.
They emit the same DDL, statement for statement, as the `op.create_table` calls Alembic's
autogenerate wrote for this revision.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _column(name: str, type_: sa.types.TypeEngine, nullable: bool = False) -> sa.Column:
    return sa.Column(name, type_, nullable=nullable)


def _ref(name: str, target: str, nullable: bool = False) -> sa.Column:
    """An integer column referencing `target` ("table.id"); `_create` adds its foreign key."""
    return sa.Column(name, sa.Integer(), nullable=nullable, info={"references": target})


def _edited_text() -> list[sa.Column]:
    """The bookkeeping of a text people write and edit (a question, an answer): audit
    findings, the version an edit must match, and when it was created and last changed."""
    return [
        _column("findings", sa.Integer()),
        _column("version", sa.Integer()),
        _column("created_at", sa.DateTime()),
        _column("updated_at", sa.DateTime()),
    ]


def _create(
    table: str, *columns: sa.Column, unique: tuple[str, ...] = (), indexed: tuple[str, ...] = ()
) -> None:
    """Create `table`: `id`, `columns`, the foreign key of each `_ref` column (in column-name
    order), the primary key, a unique constraint over `unique`, then an index on each
    `indexed` column."""
    refs = sorted((c.name, c.info["references"]) for c in columns if "references" in c.info)
    op.create_table(
        table,
        _column("id", sa.Integer()),
        *columns,
        *(sa.ForeignKeyConstraint([column], [target]) for column, target in refs),
        sa.PrimaryKeyConstraint("id"),
        *([sa.UniqueConstraint(*unique)] if unique else []),
    )
    if indexed:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexed:
                batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def _drop(table: str, indexed: tuple[str, ...] = ()) -> None:
    """Drop `table`, its indexes first (in the reverse order of their creation)."""
    if indexed:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(indexed):
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
    op.drop_table(table)


def upgrade() -> None:
    _create(
        "eval_rounds",
        _column("name", sa.String(length=120)),
        _column("raters_per_pair", sa.Integer()),
        _column("closed", sa.Boolean()),
        _column("created_at", sa.DateTime()),
        unique=("name",),
    )
    _create(
        "login_failures",
        _column("name", sa.String(length=80)),
        _column("address", sa.String(length=64)),
        _column("at", sa.DateTime()),
        indexed=("address", "at", "name"),
    )
    _create(
        "users",
        _column("name", sa.String(length=80)),
        _column("password_hash", sa.String(length=200)),
        _column("role", sa.String(length=20)),
        _column("active", sa.Boolean()),
        _column("created_at", sa.DateTime()),
        unique=("name",),
    )
    _create(
        "eval_prompts",
        _ref("round_id", "eval_rounds.id"),
        _column("key", sa.String(length=200)),
        _column("input", sa.Text()),
        _column("reference", sa.Text()),
        unique=("round_id", "key"),
    )
    _create(
        "eval_systems",
        _ref("round_id", "eval_rounds.id"),
        _column("name", sa.String(length=200)),
        _column("position", sa.Integer()),
        unique=("round_id", "name"),
    )
    _create(
        "history",
        _column("entity", sa.String(length=20)),
        _column("entity_id", sa.Integer()),
        _ref("user_id", "users.id", nullable=True),
        _column("action", sa.String(length=40)),
        _column("before", sa.Text()),
        _column("after", sa.Text()),
        _column("at", sa.DateTime()),
        indexed=("entity_id",),
    )
    _create(
        "questions",
        _column("instruction", sa.Text()),
        _column("input", sa.Text()),
        _column("genre", sa.String(length=80)),
        _column("purpose", sa.String(length=80)),
        _ref("writer_id", "users.id"),
        _column("source", sa.String(length=200)),
        *_edited_text(),
    )
    _create(
        "sessions",
        _column("token_hash", sa.String(length=64)),
        _ref("user_id", "users.id"),
        _column("created_at", sa.DateTime()),
        _column("expires_at", sa.DateTime()),
        unique=("token_hash",),
    )
    _create(
        "answers",
        _ref("question_id", "questions.id"),
        _column("text", sa.Text()),
        _column("reference_url", sa.String(length=500)),
        _ref("writer_id", "users.id"),
        _column("state", sa.String(length=20)),
        _ref("checker_id", "users.id", nullable=True),
        _column("review_comment", sa.Text()),
        *_edited_text(),
        indexed=("question_id", "state"),
    )
    _create(
        "eval_outputs",
        _ref("prompt_id", "eval_prompts.id"),
        _ref("system_id", "eval_systems.id"),
        _column("answer", sa.Text()),
        unique=("prompt_id", "system_id"),
    )
    _create(
        "eval_pairs",
        _ref("round_id", "eval_rounds.id"),
        _ref("prompt_id", "eval_prompts.id"),
        _ref("system_x_id", "eval_systems.id"),
        _ref("system_y_id", "eval_systems.id"),
        _column("x_left_first", sa.Boolean()),
        _column("judge_outcome", sa.String(length=10), nullable=True),
        indexed=("round_id",),
    )
    _create(
        "eval_votes",
        _ref("pair_id", "eval_pairs.id"),
        _ref("rater_id", "users.id"),
        _column("x_left", sa.Boolean()),
        _column("choice", sa.String(length=10), nullable=True),
        _column("reason", sa.Text()),
        _column("assigned_at", sa.DateTime()),
        _column("voted_at", sa.DateTime(), nullable=True),
        unique=("pair_id", "rater_id"),
        indexed=("pair_id",),
    )


def downgrade() -> None:
    _drop("eval_votes", indexed=("pair_id",))
    _drop("eval_pairs", indexed=("round_id",))
    _drop("eval_outputs")
    _drop("answers", indexed=("question_id", "state"))
    _drop("sessions")
    _drop("questions")
    _drop("history", indexed=("entity_id",))
    _drop("eval_systems")
    _drop("eval_prompts")
    _drop("users")
    _drop("login_failures", indexed=("address", "at", "name"))
    _drop("eval_rounds")
