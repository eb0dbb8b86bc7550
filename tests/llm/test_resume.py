"""A batch killed with SIGKILL resumes from the cache without repeating an answered call."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.llm.helpers import batch, echo
from tests.support.kill_resume import wait_for
from tests.support.openai_server import Fault, OpenAITestServer

REPO = Path(__file__).resolve().parents[2]
N, ANSWER_BEFORE_KILL = 24, 9


def start_worker(base_url: str, db: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.llm.batch_worker", base_url, str(db), str(N), str(out)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def committed(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    except sqlite3.OperationalError:  # table not created yet
        return 0


def test_sigkilled_batch_resumes_without_repeating_answered_calls(tmp_path):
    db, out = tmp_path / "cache.sqlite", tmp_path / "out.json"
    phase = {"first": True}

    def first_k_then_hang(index, kind, body):
        # first run: answer the first calls, then leave every further call hanging so
        # the process is killed with requests in flight
        if phase["first"] and index >= ANSWER_BEFORE_KILL:
            return Fault(hang_s=30)
        return None

    with OpenAITestServer(echo, faults=first_k_then_hang) as srv:
        proc = start_worker(srv.base_url, db, out)
        try:
            wait_for(
                lambda: committed(db) == ANSWER_BEFORE_KILL and len(srv.calls) > ANSWER_BEFORE_KILL,
                "answered calls to be committed",
            )
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL and not out.exists()
        first_answered = [c.body for c in srv.answered()]
        assert len(first_answered) == ANSWER_BEFORE_KILL

        phase["first"] = False
        proc = start_worker(srv.base_url, db, out)
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr.decode()

        answered = [json.dumps(c.body, sort_keys=True, ensure_ascii=False) for c in srv.answered()]
    assert len(answered) == N  # each request answered exactly once across both runs
    assert len(set(answered)) == N
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["hits"] == ANSWER_BEFORE_KILL and result["misses"] == N - ANSWER_BEFORE_KILL
    assert result["texts"] == [
        echo(r.kind, body)
        for r, body in zip(batch(N), [_body_of(r) for r in batch(N)], strict=True)
    ]


def _body_of(request) -> dict:
    from oshie.llm import OpenAICompatLLM

    return OpenAICompatLLM("http://unused/v1", model="m", api_key_env=None).request_body(request)


def test_two_processes_share_one_cache_file(tmp_path):
    db = tmp_path / "cache.sqlite"
    with OpenAITestServer(echo) as srv:
        procs = [start_worker(srv.base_url, db, tmp_path / f"out{i}.json") for i in range(2)]
        errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    texts = [json.loads((tmp_path / f"out{i}.json").read_text("utf-8"))["texts"] for i in (0, 1)]
    assert texts[0] == texts[1] and committed(db) == N
