"""Scaffolding for the tests that SIGKILL a process mid-run and start it again: a scripted
OpenAI test server that holds every call after the first few answers (so the kill finds calls
in flight), and the kill itself, once every answered call is in the cache."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.openai_server import Fault, OpenAITestServer, Responder

from oshie.llm.cache import cache_stats


def wait_for(condition: Callable[[], bool], what: str, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


class HoldingServer(OpenAITestServer):
    """After `answer_first` answered calls, every call hangs unanswered for `hang_s` seconds
    (longer than the test waits) until `release()`."""

    def __init__(self, respond: Responder, *, answer_first: int, hang_s: float) -> None:
        super().__init__(respond, faults=self._hold)
        self.answer_first = answer_first
        self.hang_s = hang_s
        self.holding = True

    def _hold(self, index: int, kind: str, body: dict[str, Any]) -> Fault | None:
        if self.holding and len(self.answered()) >= self.answer_first:
            return Fault(hang_s=self.hang_s)
        return None

    def release(self) -> None:
        self.holding = False

    def kill_when_cached(self, argv: list[str], env: dict[str, str], cache: Path,
                         limit_s: float = 60.0) -> int:
        """Run `argv` until both of its request slots hang and `cache` holds every call
        answered so far, then SIGKILL it; the number of calls answered before the kill."""
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            # both request slots hang: nothing more can be answered
            wait_for(lambda: sum(c.fault is not None for c in self.calls) >= 2, "hanging calls",
                     limit_s)
            answered = len(self.answered())
            # every answered call is committed to the cache before the client moves on
            wait_for(lambda: cache.exists() and cache_stats(cache).entries == answered,
                     "the cache to hold the answered calls", limit_s)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == -signal.SIGKILL
        return answered
