"""OpenAICompatLLM against the real local test server: protocol, retries, errors."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from tests.llm.helpers import batch, echo
from tests.support.openai_server import Fault, OpenAITestServer

from oshie.errors import LLMError
from oshie.llm import GenerationParams, LLMRequest, OpenAICompatLLM
from oshie.llm.openai_compat import backoff_delay, parse_retry_after


def fast_client(url: str, **kw) -> OpenAICompatLLM:
    opts = dict(
        model="m",
        api_key_env=None,
        concurrency=4,
        timeout=0.5,
        max_retries=4,
        backoff_base=0.01,
        backoff_max=0.05,
    )
    opts.update(kw)
    return OpenAICompatLLM(url, **opts)


def test_chat_and_completion_bodies_and_answers():
    with OpenAITestServer(echo) as srv:
        llm = fast_client(srv.base_url)
        chat = llm.chat(
            [{"role": "user", "content": "日本の首都は？"}],
            temperature=0.5,
            seed=7,
            stop=["。"],
            max_tokens=9,
        )
        comp = llm.complete("むかしむかし", max_tokens=5)
    assert chat.text == "chat:日本の首都は？|t=0.5|s=7|stop=['。']"
    assert chat.finish_reason == "stop"
    assert chat.usage.completion_tokens == len(chat.text)
    assert comp.text == "completion:むかしむかし|t=0.0|s=None|stop=None"
    chat_body, comp_body = srv.calls[0].body, srv.calls[1].body
    assert chat_body["model"] == "m" and chat_body["max_tokens"] == 9
    assert "seed" not in comp_body and "stop" not in comp_body
    assert comp_body["prompt"] == "むかしむかし"


def test_nth_sample_gets_its_own_seed():
    req = [
        LLMRequest(
            messages=[{"role": "user", "content": "x"}],
            params=GenerationParams(temperature=1.0, seed=10),
            sample_index=i,
        )
        for i in range(3)
    ]
    with OpenAITestServer(echo) as srv:
        fast_client(srv.base_url).generate(req)
    assert sorted(c.body["seed"] for c in srv.calls) == [10, 11, 12]


def test_batch_keeps_order_and_bounds_concurrency():
    reqs = batch(12)
    lock, state = threading.Lock(), {"now": 0, "max": 0}

    def slow_echo(kind, body):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.05)  # keep calls overlapping so the bound is exercised
        with lock:
            state["now"] -= 1
        return echo(kind, body)

    with OpenAITestServer(slow_echo) as srv:
        llm = fast_client(srv.base_url, concurrency=3)
        got = llm.generate(reqs)
    assert [g.text for g in got] == [echo(r.kind, llm.request_body(r)) for r in reqs]
    assert state["max"] == 3

    # many one-request batches at once share the same bound
    state["max"] = 0

    async def singles(llm):
        return await asyncio.gather(*(llm.agenerate([r]) for r in reqs))

    with OpenAITestServer(slow_echo) as srv:
        llm = fast_client(srv.base_url, concurrency=3)
        got = asyncio.run(singles(llm))
    assert [g[0].text for g in got] == [echo(r.kind, llm.request_body(r)) for r in reqs]
    assert state["max"] == 3


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=429, retry_after=0.01),
        Fault(status=500),
        Fault(status=503),
        Fault(hang_s=1.0),
        Fault(malformed=True),
    ],
    ids=["429", "500", "503", "hang", "malformed"],
)
def test_transient_faults_are_retried(fault):
    with OpenAITestServer(echo, faults=lambda i, k, b: fault if i < 2 else None) as srv:
        out = fast_client(srv.base_url).chat([{"role": "user", "content": "再試行"}])
    assert out.text.startswith("chat:再試行")
    assert [c.answered for c in srv.calls] == [False, False, True]


def test_connection_refused_is_retried_then_named(unused_port):
    llm = fast_client(f"http://127.0.0.1:{unused_port}/v1", max_retries=2)
    with pytest.raises(LLMError) as err:
        llm.chat([{"role": "user", "content": "x"}])
    msg = str(err.value)
    assert f"http://127.0.0.1:{unused_port}/v1/chat/completions" in msg
    assert "3 attempts" in msg and "connection error" in msg


def test_last_retry_error_names_url_and_status():
    with OpenAITestServer(echo, faults=lambda i, k, b: Fault(status=503)) as srv:
        with pytest.raises(LLMError) as err:
            fast_client(srv.base_url, max_retries=2).complete("x")
    assert f"{srv.base_url}/completions" in str(err.value)
    assert "HTTP 503" in str(err.value)
    assert len(srv.calls) == 3


def test_client_errors_are_not_retried_and_say_which_env_var(monkeypatch):
    monkeypatch.setenv("OSHIE_TEST_WRONG_KEY", "wrong")
    with OpenAITestServer(echo, api_key="right") as srv:
        llm = fast_client(srv.base_url, api_key_env="OSHIE_TEST_WRONG_KEY")
        with pytest.raises(LLMError) as err:
            llm.chat([{"role": "user", "content": "x"}])
    assert len(srv.calls) == 0  # the test server rejects before logging the call
    assert "HTTP 401" in str(err.value) and "OSHIE_TEST_WRONG_KEY" in str(err.value)
    assert "wrong" not in str(err.value).replace("wrong key", "")


def test_key_from_env_is_sent_as_bearer(monkeypatch):
    monkeypatch.setenv("OSHIE_TEST_KEY", "sk-test-123")
    with OpenAITestServer(echo, api_key="sk-test-123") as srv:
        out = fast_client(srv.base_url, api_key_env="OSHIE_TEST_KEY").chat(
            [{"role": "user", "content": "鍵"}]
        )
    assert out.text.startswith("chat:鍵")
    assert srv.calls[0].headers["authorization"] == "Bearer sk-test-123"
    assert "sk-test-123" not in repr(fast_client(srv.base_url, api_key_env="OSHIE_TEST_KEY"))


def test_overlapping_batches_share_one_event_loop():
    async def two_batches(llm):
        return await asyncio.gather(llm.agenerate(batch(3, "甲")), llm.agenerate(batch(3, "乙")))

    with OpenAITestServer(echo) as srv:
        a, b = asyncio.run(two_batches(fast_client(srv.base_url)))
    assert [g.text.split("|")[0] for g in a] == ["chat:甲0は？", "chat:甲1は？", "chat:甲2は？"]
    assert b[0].text.startswith("chat:乙0")


def test_on_result_reports_each_request_once():
    seen = []
    with OpenAITestServer(echo) as srv:
        fast_client(srv.base_url).generate(batch(5), on_result=lambda i, g: seen.append(i))
    assert sorted(seen) == [0, 1, 2, 3, 4]


def test_retry_after_parsing_and_backoff_bounds():
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert backoff_delay(3, base=1.0, cap=30.0, retry_after=7.0) == 7.0
    assert backoff_delay(3, base=1.0, cap=30.0, retry_after=900.0, max_retry_after=60) == 60
    delays = [backoff_delay(a, base=0.5, cap=4.0) for a in range(8) for _ in range(20)]
    assert all(0 <= d <= 4.0 for d in delays) and len(set(delays)) > 1
