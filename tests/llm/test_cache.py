"""CachedLLM: every finished call stored once, reruns free, identical under faults."""

from __future__ import annotations

import sqlite3
import time

import pytest
from tests.llm.helpers import batch, echo
from tests.support.openai_server import Fault, OpenAITestServer

from oshie.errors import LLMError, UsageError
from oshie.llm import CachedLLM, GenerationParams, LLMRequest, OpenAICompatLLM
from oshie.llm.cache import cache_stats


def client(url: str, **kw) -> OpenAICompatLLM:
    opts = dict(
        model="m",
        api_key_env=None,
        concurrency=4,
        timeout=0.4,
        max_retries=6,
        backoff_base=0.01,
        backoff_max=0.05,
    )
    return OpenAICompatLLM(url, **{**opts, **kw})


FAULT_CYCLE = [
    Fault(status=429, retry_after=0.02),
    Fault(status=500),
    Fault(hang_s=0.8),
    Fault(malformed=True),
    Fault(status=502),
]


class ThirtyPercentFaults:
    """Calls 1, 4, 7, 11, ... (30% of them) fail, cycling through every kind of fault; a
    request is failed at most 3 times, so max_retries=6 always suffices."""

    def __init__(self) -> None:
        self.failures: dict[str, int] = {}

    def __call__(self, index: int, kind: str, body: dict) -> Fault | None:
        text = body.get("prompt") or body["messages"][-1]["content"]
        if index % 10 not in (1, 4, 7) or self.failures.get(text, 0) >= 3:
            return None
        self.failures[text] = self.failures.get(text, 0) + 1
        return FAULT_CYCLE[(index // 3) % len(FAULT_CYCLE)]


def test_faulty_run_returns_the_same_texts_as_a_clean_run(tmp_path):
    reqs = batch(40)
    with OpenAITestServer(echo) as clean_srv:
        clean = CachedLLM(client(clean_srv.base_url), tmp_path / "clean.sqlite").generate(reqs)
    with OpenAITestServer(echo, faults=ThirtyPercentFaults()) as srv:
        cached = CachedLLM(client(srv.base_url), tmp_path / "faulty.sqlite")
        faulty = cached.generate(reqs)
    assert [g.text for g in faulty] == [g.text for g in clean]
    faults = [c.fault for c in srv.calls if c.fault is not None]
    assert len(faults) >= 0.25 * len(srv.calls)
    assert {f.status for f in faults if f.status} == {429, 500, 502}
    assert any(f.hang_s for f in faults) and any(f.malformed for f in faults)
    # every request answered exactly once; the failed attempts were never answered
    assert len(srv.answered()) == len(reqs)
    assert (cached.hits, cached.misses) == (0, len(reqs))


def test_rerun_is_served_from_cache_without_calls(tmp_path):
    db = tmp_path / "c.sqlite"
    reqs = batch(10)
    with OpenAITestServer(echo) as srv:
        first = CachedLLM(client(srv.base_url), db).generate(reqs)
        again = CachedLLM(client(srv.base_url), db)
        second = again.generate(reqs)
    assert len(srv.calls) == 10
    assert [g.text for g in second] == [g.text for g in first]
    assert all(g.cached for g in second) and not any(g.cached for g in first)
    stats = again.stats()
    assert (stats.entries, stats.hits, stats.misses) == (10, 10, 0)
    assert stats.by_model == {"openai:m": 10}


def test_key_covers_params_seed_sample_index_and_model(tmp_path):
    db = tmp_path / "c.sqlite"
    msgs = [{"role": "user", "content": "同じ質問"}]
    variants = [
        LLMRequest(messages=msgs),
        LLMRequest(messages=msgs, params=GenerationParams(temperature=0.9, seed=1)),
        LLMRequest(messages=msgs, params=GenerationParams(temperature=0.9, seed=2)),
        LLMRequest(messages=msgs, params=GenerationParams(temperature=0.9, seed=1), sample_index=1),
        LLMRequest(messages=msgs, params=GenerationParams(max_tokens=3)),
        LLMRequest(messages=msgs, params=GenerationParams(stop=["。"])),
        LLMRequest(prompt="同じ質問"),
    ]
    with OpenAITestServer(echo) as srv:
        CachedLLM(client(srv.base_url), db).generate(variants)
        assert len(srv.calls) == len(variants)
        CachedLLM(client(srv.base_url, model="other"), db).generate(variants[:1])
        assert len(srv.calls) == len(variants) + 1
        CachedLLM(client(srv.base_url, extra_body={"top_k": 5}), db).generate(variants[:1])
        assert len(srv.calls) == len(variants) + 2
        assert srv.calls[-1].body["top_k"] == 5
        # another timeout (or a trailing slash) is the same endpoint: served from the cache
        CachedLLM(client(srv.base_url + "/", timeout=9), db).generate(variants)
        assert len(srv.calls) == len(variants) + 2
    with OpenAITestServer(echo) as other:  # another endpoint: asked again
        CachedLLM(client(other.base_url), db).generate(variants[:1])
        assert len(other.calls) == 1


def test_duplicates_in_one_batch_are_sent_once(tmp_path):
    req = LLMRequest(messages=[{"role": "user", "content": "重複"}])
    with OpenAITestServer(echo) as srv:
        out = CachedLLM(client(srv.base_url), tmp_path / "c.sqlite").generate([req, req, req])
    assert len(srv.calls) == 1 and len({g.text for g in out}) == 1


def test_finished_calls_survive_a_failing_batch(tmp_path):
    db = tmp_path / "c.sqlite"
    reqs = batch(6)
    poison = reqs[5].messages[0]["content"] if reqs[5].messages else reqs[5].prompt

    broken = {"now": True}

    def fail_one(index, kind, body):
        text = body.get("prompt") or body["messages"][-1]["content"]
        return Fault(status=500) if broken["now"] and text == poison else None

    with OpenAITestServer(echo, faults=fail_one) as srv:
        with pytest.raises(LLMError):
            CachedLLM(client(srv.base_url, concurrency=1, max_retries=1), db).generate(reqs)
        assert cache_stats(db).entries == 5
        broken["now"], before = False, len(srv.calls)
        resumed = CachedLLM(client(srv.base_url), db)
        resumed.generate(reqs)
    assert len(srv.calls) == before + 1 and resumed.hits == 5


def test_database_is_wal_and_stores_no_url(tmp_path):
    db = tmp_path / "c.sqlite"
    with OpenAITestServer(echo) as srv:
        CachedLLM(client(srv.base_url), db).generate(batch(2))
        url = srv.base_url
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = conn.execute("SELECT request FROM calls").fetchall()
    assert rows and all(url not in r[0] and "127.0.0.1" not in r[0] for r in rows)


def test_bad_cache_paths_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="directory"):
        CachedLLM(client("http://127.0.0.1:9/v1"), tmp_path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UsageError, match="not an oshie LLM cache"):
        CachedLLM(client("http://127.0.0.1:9/v1"), junk)
    with pytest.raises(UsageError, match="no such cache file"):
        cache_stats(tmp_path / "missing.sqlite")


def test_after_a_failure_in_flight_calls_are_kept_and_no_new_ones_start(tmp_path):
    db = tmp_path / "c.sqlite"
    reqs = batch(10)

    def slow_echo(kind, body):
        time.sleep(0.2)  # the failing request gives up long before the batch could finish
        return echo(kind, body)

    def first_fails(index, kind, body):
        text = body.get("prompt") or body["messages"][-1]["content"]
        return Fault(status=500) if text == "質問0は？" else None

    with OpenAITestServer(slow_echo, faults=first_fails) as srv:
        with pytest.raises(LLMError):
            CachedLLM(client(srv.base_url, concurrency=2, max_retries=1), db).generate(reqs)
        answered = len(srv.answered())
    assert 0 < answered < len(reqs) - 1
    assert cache_stats(db).entries == answered  # every answered call was kept
