"""Opening the cache: many processes at once never fail; a file that is not a cache is
refused without being touched; damage found late is a clear error; the key tells served
models apart."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from oshie.errors import UsageError
from oshie.llm import CachedLLM, Generation, LLMRequest, OpenAICompatLLM
from oshie.llm.cache import connect
from oshie.llm.server import create_app

REPO = Path(__file__).resolve().parents[2]

OPEN_AT_ONCE = """
import sys, time
from oshie.llm.cache import connect
print("ready", flush=True)
time.sleep(max(0.0, float(sys.stdin.readline()) - time.time()))
conn = connect(sys.argv[1])
conn.execute("INSERT OR IGNORE INTO meta VALUES (?, 'x')", (sys.argv[2],))
conn.close()
"""


def open_at_once(db: Path, processes: int) -> list[subprocess.Popen]:
    """`processes` interpreters that, once all have imported oshie, open a new cache file
    at the same instant."""
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, str(db), f"p{i}"], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(processes)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    start = f"{time.time() + 0.2}\n"
    for p in procs:
        p.stdin.write(start)
        p.stdin.flush()
    for p in procs:
        p.stderr_text = p.communicate(timeout=120)[1]
    return procs


def test_eight_processes_open_a_new_cache_at_once(tmp_path):
    """One round here; `bench/cache_open_race.py` runs 20 under CPU load."""
    db = tmp_path / "new.sqlite"
    done = open_at_once(db, 8)
    assert [p.returncode for p in done] == [0] * 8, [p.stderr_text for p in done if p.returncode]
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM meta WHERE value = 'x'").fetchone()[0] == 8
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_the_switch_to_wal_waits_for_a_process_holding_the_lock(tmp_path):
    """The race made deterministic: while another connection holds a write lock on a new
    file (as a second process creating the tables does), `PRAGMA journal_mode=WAL` answers
    SQLITE_BUSY at once, whatever the busy timeout."""
    db = tmp_path / "new.sqlite"
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE calls_tmp (x)")
    threading.Timer(0.5, lambda: (holder.execute("ROLLBACK"), holder.close())).start()
    t0 = time.monotonic()
    conn = connect(db)
    assert time.monotonic() - t0 >= 0.4  # it waited instead of failing
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("schema", [
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'a');",
    "CREATE TABLE calls (key TEXT PRIMARY KEY, answer TEXT);",
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT INTO meta VALUES ('schema_version', '99');",
])
def test_a_database_of_another_schema_is_refused_untouched(tmp_path, schema):
    db = tmp_path / "app.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript(schema)
    conn.close()
    before = sha(db)
    with pytest.raises(UsageError, match="not an oshie LLM cache") as err:
        CachedLLM(OpenAICompatLLM("http://127.0.0.1:9/v1", model="m", api_key_env=None), db)
    assert "left untouched" in str(err.value) and err.value.hint
    assert sha(db) == before and not Path(f"{db}-wal").exists()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert "calls" not in schema or conn.execute("PRAGMA table_info(calls)").fetchall()[1][1] == "answer"
    conn.close()


def test_corruption_found_after_opening_is_a_clear_error(tmp_path):
    db = tmp_path / "c.sqlite"
    conn = connect(db)
    for i in range(300):
        conn.execute("INSERT INTO calls VALUES (?, 'b', 'm', 'chat', '{}', ?, 'stop', 1, 1, 0)",
                     (f"k{i}", "答" * 500))
    conn.close()  # checkpoints the WAL into the file
    good = db.read_bytes()
    cached = CachedLLM(OpenAICompatLLM("http://127.0.0.1:9/v1", model="m", api_key_env=None), db)
    page = 4096
    ruined = good[: 2 * page] + b"\xff" * (len(good) - 2 * page)  # schema page kept
    db.write_bytes(ruined)  # damaged while in use: found by the next lookup
    with pytest.raises(UsageError, match="cannot be used") as err:
        cached.get(LLMRequest(prompt="x"))
    assert str(db) in str(err.value) and "move it aside" in err.value.hint
    cached.close()
    with pytest.raises(UsageError, match="damaged"):  # and found when opening it again
        connect(db)


class _Fixed:
    """Stands in for a served model: always the same answer, with its own fingerprint."""

    batch_size = 8

    def __init__(self, text: str, fingerprint: str) -> None:
        self.text, self.fingerprint = text, fingerprint

    async def agenerate(self, requests, **kw):
        return [Generation(text=self.text) for _ in requests]


def _serve_once(llm: _Fixed, port: int, db: Path) -> str:
    server = uvicorn.Server(uvicorn.Config(create_app(llm, "model"), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        client = OpenAICompatLLM(f"http://127.0.0.1:{port}/v1", model="model", api_key_env=None,
                                 max_retries=0)
        with CachedLLM(client, db) as cached:
            return cached.generate([LLMRequest(prompt="同じ質問")])[0].text
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_two_models_served_under_one_name_and_url_never_share_answers(tmp_path, unused_port):
    db = tmp_path / "c.sqlite"
    assert _serve_once(_Fixed("Aの答え", "fp-a"), unused_port, db) == "Aの答え"
    assert _serve_once(_Fixed("Bの答え", "fp-b"), unused_port, db) == "Bの答え"
    assert _serve_once(_Fixed("Aの答え?", "fp-a"), unused_port, db) == "Aの答え"  # cached
