"""SIGKILL an `oshie synth` process mid-run, start it again: it completes, no answered call
is asked twice (the server's call log says so), and the output equals an uninterrupted run's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.openai_server import Fault, OpenAITestServer
from tests.synth.scripted import respond as scripted
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.llm.cache import cache_stats
from oshie.synth.output import rejected_path

STAGES = {
    "respond": ["respond", "--n", "3"],
    "self-instruct": ["self-instruct", "--target", "20", "--set", "requests_per_round=4"],
}


def _wait(condition, what: str, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("stage", list(STAGES))
def test_killed_run_resumes_without_repeating_answered_calls(
    tmp_path: Path, seeds_file: Path, stage: str
) -> None:
    cmd, *opts = STAGES[stage]
    out = tmp_path / "killed" / "out.jsonl"
    cache = tmp_path / "killed" / "calls.sqlite"
    state = {"hold": True}
    answer_first = 6

    def faults(index: int, kind: str, body: dict) -> Fault | None:
        # after `answer_first` answers, every call hangs (unanswered) until the kill
        if state["hold"] and sum(c.answered for c in srv.calls) >= answer_first:
            return Fault(hang_s=20)
        return None

    env = {**os.environ, "OSHIE_QUIET": "1"}
    with OpenAITestServer(scripted, faults=faults) as srv:
        argv = [sys.executable, "-m", "oshie.cli.app", "synth", cmd, str(seeds_file), *opts,
                "--out", str(out), "--cache", str(cache), "--base-url", srv.base_url,
                "--model", "test-model", "--concurrency", "2"]
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            # both request slots hang: nothing more can be answered
            _wait(lambda: sum(c.fault is not None for c in srv.calls) >= 2, "hanging calls")
            answered = len(srv.answered())
            assert answered >= answer_first
            # every answered call is committed to the cache before the client moves on
            _wait(lambda: cache.exists() and cache_stats(cache).entries == answered,
                  "the cache to hold the answered calls")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == -signal.SIGKILL
        state["hold"] = False
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        bodies = [json.dumps(c.body, sort_keys=True, ensure_ascii=False) for c in srv.answered()]
    print(f"\n{stage}: {answered} calls answered before SIGKILL, {len(bodies)} answered in all, "
          f"{len(set(bodies))} distinct")
    assert len(bodies) > answered  # the restart had work left
    assert len(bodies) == len(set(bodies)), "an answered call was asked again"

    reference = tmp_path / "clean" / "out.jsonl"
    with OpenAITestServer(scripted) as clean:
        result = CliRunner().invoke(app, ["synth", cmd, str(seeds_file), *opts,
                                          "--out", str(reference), "--base-url", clean.base_url,
                                          "--model", "test-model"])
        assert result.exit_code == 0, result.output
        assert len(clean.answered()) == len(bodies)  # same calls, each once
    assert out.read_bytes() == reference.read_bytes() and out.read_bytes()
    assert rejected_path(out).read_bytes() == rejected_path(reference).read_bytes()
