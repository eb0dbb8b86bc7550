"""SIGKILL an `oshie synth` process mid-run, start it again: it completes, no answered call
is asked twice (the server's call log says so), and the output equals an uninterrupted run's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.kill_resume import HoldingServer
from tests.support.openai_server import OpenAITestServer
from tests.synth.scripted import respond as scripted
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.synth.output import rejected_path

STAGES = {
    "respond": ["respond", "--n", "3"],
    "self-instruct": ["self-instruct", "--target", "20", "--set", "requests_per_round=4"],
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_killed_run_resumes_without_repeating_answered_calls(
    tmp_path: Path, seeds_file: Path, stage: str
) -> None:
    cmd, *opts = STAGES[stage]
    out = tmp_path / "killed" / "out.jsonl"
    cache = tmp_path / "killed" / "calls.sqlite"
    env = {**os.environ, "OSHIE_QUIET": "1"}
    with HoldingServer(scripted, answer_first=6, hang_s=20) as srv:
        argv = [sys.executable, "-m", "oshie.cli.app", "synth", cmd, str(seeds_file), *opts,
                "--out", str(out), "--cache", str(cache), "--base-url", srv.base_url,
                "--model", "test-model", "--concurrency", "2"]
        answered = srv.kill_when_cached(argv, env, cache)
        assert answered >= srv.answer_first
        srv.release()
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
