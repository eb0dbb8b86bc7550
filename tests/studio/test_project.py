"""Schema, CLI and the server-side audit without a browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.studio.conftest import LiveStudio
from tests.support.cli import run_cli

from oshie.data import load_records


def test_migrations_give_the_models_schema_on_both_databases(live_studio: LiveStudio) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from oshie.studio.db import Base
    from oshie.studio.migrate import current_revision

    engine = live_studio.studio.db.engine
    assert engine.dialect.name == live_studio.backend
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert current_revision(engine) == "0001"


def _run(*args: str) -> str:
    code, out, err = run_cli(list(args))
    assert code == 0, err or out
    return out


def test_cli_init_users_import_and_cp932_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from oshie.studio import open_studio, workflow
    from oshie.studio.db import Question, User

    project = tmp_path / "proj"
    assert "studio.yaml" in _run("studio", "init", str(project))
    assert (project / "studio.db").is_file()
    monkeypatch.setenv("OSHIE_STUDIO_PASSWORD", "a-long-password")
    for name, role in (("kaori", "writer"), ("ren", "answerer"), ("sato", "checker")):
        _run("studio", "user", "add", name, "--role", role, "--dir", str(project))
    code, _, err = run_cli(["studio", "user", "add", "x", "--role", "boss", "--dir", str(project)])
    assert code == 2 and "unknown role" in err
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(json.dumps({"id": "s1", "instruction": "次の文を敬語に直してください。",
                                 "input": "明日行く。"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert "imported 1 questions" in _run("studio", "import", str(project), str(seeds), "--writer", "kaori")

    studio = open_studio(project)
    with studio.db.transaction() as s:
        users = {u.name: u for u in s.scalars(select(User))}
        q = s.scalar(select(Question))
        assert (q.instruction, q.input, q.source) == ("次の文を敬語に直してください。", "明日行く。", "seeds.jsonl#s1")
        a = workflow.add_answer(s, users["ren"], q.id, "明日伺います。")
        workflow.review(s, users["sato"], a.id, a.version, "approve")
    studio.db.dispose()

    out = tmp_path / "approved.csv"
    _run("studio", "export", str(project), str(out), "--format", "alpaca", "--encoding", "cp932")
    out.read_bytes().decode("cp932")  # Excel-in-Japan encoding
    (record,) = load_records(out)
    assert record.metadata.question_writer == "kaori"
    assert record.metadata.answer_writer == "ren"
    assert record.metadata.checker == "sato"
    assert record.instruction == "次の文を敬語に直してください。\n\n明日行く。"
    code, _, err = run_cli(["studio", "export", str(project), str(project / "studio.db")])
    assert code == 2 and "input" in err  # never over its own database


def test_live_audit_flags_near_duplicates_only(live_studio: LiveStudio) -> None:
    from oshie.studio.audit import audit_draft
    from oshie.studio.db import User
    from oshie.studio.workflow import create_question

    original = "日本の伝統的な正月料理であるおせち料理について、代表的な品目とその意味を説明してください。"
    with live_studio.studio.db.transaction() as s:
        create_question(s, s.scalar(select(User).where(User.name == "mio")), original)
        near = audit_draft(s, original.replace("代表的な", "主な"))
        other = audit_draft(s, "夏休みの自由研究のテーマを三つ提案してください。")
    assert [f["check"] for f in near].count("duplicate") == 1
    assert not [f for f in other if f["check"] == "duplicate"]


def test_init_on_postgresql_never_prints_the_database_password(tmp_path: Path, postgres) -> None:  # type: ignore[no-untyped-def]
    # The test server trusts local connections, so the planted password is accepted and ignored:
    # the command runs for real and must still keep the password out of everything it prints.
    url = postgres.create_database("pw_hidden").replace("postgres@", "postgres:s3cret-pw-42@")
    code, out, err = run_cli(["studio", "init", str(tmp_path / "p"), "--db", url])
    assert code == 0, err or out
    assert "database ready" in out and "127.0.0.1" in out
    assert "s3cret-pw-42" not in out + err
    assert "s3cret-pw-42" not in (tmp_path / "p" / "studio.yaml").read_text(encoding="utf-8")
