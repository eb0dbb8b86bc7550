"""`oshie studio`: start and administer the web app for writers, answerers, checkers and raters.

Only option parsing and printing here; the work is in `oshie.studio`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from oshie.console import console, out, set_quiet
from oshie.errors import UsageError
from oshie.jsonl import JsonlWriter
from oshie.runs import redact_url

SUMMARY = "The web app for writers, answerers, checkers and blind human evaluation."
app = typer.Typer(no_args_is_help=True)
eval_app = typer.Typer(no_args_is_help=True, help="Blind pairwise human evaluation rounds.")
user_app = typer.Typer(no_args_is_help=True, help="Manage studio accounts.")
app.add_typer(eval_app, name="eval")
app.add_typer(user_app, name="user")

DirArg = Annotated[Path, typer.Argument(help="The studio project directory (made by `oshie studio init`).")]
DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL, e.g. postgresql://user@host/db (default: studio.yaml's, else studio.db in DIR).")]
PASSWORD_ENV = "OSHIE_STUDIO_PASSWORD"


def _open(project_dir: Path, db: str | None):  # type: ignore[no-untyped-def]
    from oshie.studio import open_studio

    return open_studio(project_dir, db)


@app.command("init")
def init(project_dir: DirArg, db: DbOpt = None) -> None:
    """Create a project: studio.yaml (genres, purposes, targets, guidelines) and the database."""
    from oshie.studio.project import init_project

    path = init_project(project_dir)
    studio = _open(project_dir, db)
    out.print(f"wrote {escape(str(path))}; database ready ({escape(redact_url(studio.db.url))})")
    out.print(f"next: oshie studio user add NAME --role admin --dir {escape(str(project_dir))}")


@app.command("serve")
def serve(
    project_dir: DirArg,
    db: DbOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind; the default serves this machine only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port.")] = 8765,
    secure_cookies: Annotated[bool, typer.Option("--secure-cookies", help="Mark cookies Secure: use it when people reach the studio through HTTPS (a TLS proxy).")] = False,
) -> None:
    """Serve the studio (Ctrl+C stops)."""
    from oshie.studio import serve as run

    def ready(url: str) -> None:
        console.print(f"oshie studio on {url} (Ctrl+C stops)", soft_wrap=True)
        set_quiet(True)  # no progress bars from request threads

    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print("[yellow]warning:[/yellow] serving beyond this machine: put it behind HTTPS")
    run(project_dir, db, host, port, on_ready=ready, secure_cookies=secure_cookies)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (what people sign in with).")],
    role: Annotated[str, typer.Option("--role", help="writer | answerer | checker | admin")],
    project_dir: Annotated[Path, typer.Option("--dir", "-d", help="The studio project directory.")] = Path("."),
    db: DbOpt = None,
) -> None:
    """Add an account. The password comes from $OSHIE_STUDIO_PASSWORD, else is asked for (hidden)."""
    from oshie.studio.auth import add_user
    from oshie.studio.workflow import log

    password = os.environ.get(PASSWORD_ENV) or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    studio = _open(project_dir, db)
    with studio.db.transaction() as s:
        user = add_user(s, name, password, role)
        log(s, "user", user.id, None, "create", None, {"name": user.name, "role": user.role})
    out.print(f"added {escape(name)} ({role})")


@user_app.command("list")
def user_list(project_dir: Annotated[Path, typer.Option("--dir", "-d")] = Path("."), db: DbOpt = None) -> None:
    """List accounts."""
    from sqlalchemy import select

    from oshie.studio.db import User

    studio = _open(project_dir, db)
    with studio.db.transaction() as s:
        for u in s.scalars(select(User).order_by(User.id)):
            out.print(f"{u.id}\t{escape(u.name)}\t{u.role}")


@app.command("export")
def export(
    project_dir: DirArg,
    output: Annotated[Path, typer.Argument(help="Output file; the type comes from the extension (.jsonl .json .csv .xlsx .parquet).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="Record format: messages, ichikara, alpaca, sharegpt ...")] = "ichikara",
    encoding: Annotated[str, typer.Option("--encoding", help="Text encoding for CSV/TSV, e.g. cp932 for Excel in Japan.")] = "utf-8",
    db: DbOpt = None,
) -> None:
    """Write the approved records (people in metadata: question_writer, answer_writer, checker)."""
    from oshie.data import write_records
    from oshie.paths import guard_outputs
    from oshie.studio.workflow import approved_records

    studio = _open(project_dir, db)
    guard_outputs([output], [Path(project_dir) / "studio.yaml", Path(project_dir) / "studio.db"])
    with studio.db.transaction() as s:
        records = approved_records(s, studio.config.name)
    n = write_records(output, records, fmt, encoding=encoding)
    out.print(f"wrote {n} approved records to {escape(str(output))} ({fmt})")


@app.command("import")
def import_(
    project_dir: DirArg,
    input_file: Annotated[Path, typer.Argument(help="Seeds/tasks in any oshie format and file type (answers not required).")],
    writer: Annotated[str, typer.Option("--writer", help="The account the imported questions are credited to (a writer or admin).")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="Record format (default: detected).")] = None,
    db: DbOpt = None,
) -> None:
    """Import questions (instruction + optional input) for answerers to answer."""
    from sqlalchemy import select

    from oshie.data import load_records
    from oshie.studio.db import User
    from oshie.studio.workflow import import_questions

    records = load_records(input_file, fmt, require_answer=False)
    studio = _open(project_dir, db)
    with studio.db.transaction() as s:
        user = s.scalar(select(User).where(User.name == writer))
        if user is None:
            raise UsageError(f"no user '{writer}'", field="--writer", hint="add one with `oshie studio user add`")
        n = import_questions(s, user, records, input_file.name)
    out.print(f"imported {n} questions from {escape(str(input_file))}")


@eval_app.command("import")
def eval_import(
    project_dir: DirArg,
    name: Annotated[str, typer.Argument(help="Name of the new evaluation round.")],
    runs: Annotated[list[Path], typer.Argument(help="Two or more `oshie eval judge` run directories or answers JSONL files (same prompts).")],
    raters: Annotated[int, typer.Option("--raters", "-k", min=1, help="Raters per pair.")] = 3,
    judge: Annotated[Path | None, typer.Option("--judge", help="An `oshie eval compare` run directory: its LLM verdicts on the same pairs, for human-judge agreement.")] = None,
    db: DbOpt = None,
) -> None:
    """Create a blind pairwise round from systems' answers."""
    from oshie.eval.pairwise import load_system
    from oshie.studio.evaluation import import_round, read_judge_verdicts

    systems = {}
    for run in runs:
        sys_name, rows = load_system(run)
        if sys_name in systems:
            raise UsageError(f"two systems are named '{sys_name}'", hint="rename one run directory or file")
        systems[sys_name] = rows
    verdicts = read_judge_verdicts(judge) if judge else None
    studio = _open(project_dir, db)
    with studio.db.transaction() as s:
        rnd = import_round(s, name, systems, raters, verdicts)
        rid = rnd.id
    n = len(next(iter(systems.values())))
    out.print(f"round {rid} '{escape(name)}': {len(systems)} systems, {n} prompts, {raters} raters per pair"
              + (" (with LLM verdicts)" if verdicts else ""))


@eval_app.command("results")
def eval_results(
    project_dir: DirArg,
    name: Annotated[str, typer.Argument(help="The evaluation round.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory for results.json, votes.jsonl and manifest.json.")],
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    db: DbOpt = None,
) -> None:
    """Win/tie/loss with bootstrap CIs, Fleiss'/Cohen's kappa and human-judge agreement, in
    the results.json shape of `oshie eval compare`."""

    from sqlalchemy import select

    from oshie.paths import guard_outputs
    from oshie.runs import Manifest, write_json
    from oshie.studio.db import EvalRound
    from oshie.studio.evaluation import round_results

    guard_outputs([out_dir / f for f in ("results.json", "votes.jsonl", "manifest.json")],
                  [Path(project_dir) / "studio.yaml", Path(project_dir) / "studio.db"])
    studio = _open(project_dir, db)
    with studio.db.transaction() as s:
        rnd = s.scalar(select(EvalRound).where(EvalRound.name == name))
        if rnd is None:
            raise UsageError(f"no evaluation round '{name}'")
        results, records = round_results(s, rnd, seed)
        closed = rnd.closed
    manifest = Manifest(out_dir, "studio-eval", config={"round": name, "seed": seed, "closed": closed})
    write_json(out_dir / "results.json", results)
    with JsonlWriter(out_dir / "votes.jsonl") as fh:
        for r in records:
            fh.write(r)
    manifest.write()
    table = Table(title_justify="left")
    for col in ("pair", "metric", "value", "95% CI", "n"):
        table.add_column(col)
    for pair, metrics in results.items():
        for metric, m in metrics.items():
            if isinstance(m, dict) and "value" in m:
                ci = m.get("ci95") or [None, None]
                fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
                table.add_row(escape(pair), metric, fmt(m["value"]),
                              escape(f"[{fmt(ci[0])}, {fmt(ci[1])}]"), str(m["n"]))
    out.print(table)
    out.print(f"wrote {escape(str(out_dir))}/results.json, votes.jsonl, manifest.json")
