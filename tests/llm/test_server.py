"""`oshie serve`: the official openai client against the server on the tiny model."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest
from openai import OpenAI

from oshie.llm import LLM, CachedLLM, Generation, LocalLLM, OpenAICompatLLM
from oshie.llm.server import create_app

KEY = "oshie-serve-test-key"


class InProcessServer:
    """uvicorn in a thread on a free port of 127.0.0.1."""

    def __init__(self, app) -> None:
        import uvicorn

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        )

    def __enter__(self) -> str:
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def local_llm(tiny_model_dir) -> LocalLLM:
    return LocalLLM(tiny_model_dir, batch_size=4)


@pytest.fixture(scope="module")
def served(local_llm):
    with InProcessServer(create_app(local_llm, "tiny", api_key=KEY)) as url:
        yield url


def test_official_client_chat(served):
    client = OpenAI(base_url=served, api_key=KEY, max_retries=0)
    msgs = [
        {"role": "system", "content": "丁寧に答えてください。"},
        {"role": "user", "content": "富士山の高さは？"},
    ]
    out = client.chat.completions.create(
        model="tiny", messages=msgs, max_tokens=6, temperature=0.9, seed=5, n=3
    )
    assert len(out.choices) == 3 and out.model == "tiny"
    assert all(c.finish_reason in ("stop", "length") for c in out.choices)
    assert 3 <= out.usage.completion_tokens <= 18
    again = client.chat.completions.create(
        model="tiny", messages=msgs, max_tokens=6, temperature=0.9, seed=5, n=3
    )
    # same seed, same samples; the n samples differ from each other (seed + index)
    assert [c.message.content for c in again.choices] == [c.message.content for c in out.choices]
    assert len({c.message.content for c in out.choices}) > 1
    assert out.usage.prompt_tokens > 0


def test_official_client_completions_with_stop_and_length(served):
    client = OpenAI(base_url=served, api_key=KEY, max_retries=0)
    full = client.completions.create(
        model="tiny", prompt="むかしむかし", max_tokens=12, temperature=1.0, seed=11
    )
    text = full.choices[0].text
    assert full.choices[0].finish_reason == "length" and full.usage.completion_tokens == 12
    stop_char = next(ch for ch in text[2:] if ch.strip() and ch != "\ufffd")
    cut = client.completions.create(
        model="tiny",
        prompt="むかしむかし",
        max_tokens=12,
        temperature=1.0,
        seed=11,
        stop=[stop_char],
    )
    assert cut.choices[0].text == text[: text.index(stop_char)]
    assert cut.choices[0].finish_reason == "stop"
    assert cut.usage.completion_tokens < 12
    two = client.completions.create(model="tiny", prompt=["甲", "乙"], max_tokens=3, temperature=0)
    assert [c.index for c in two.choices] == [0, 1]


def test_models_and_streaming(served):
    client = OpenAI(base_url=served, api_key=KEY, max_retries=0)
    assert [m.id for m in client.models.list().data] == ["tiny"]
    chunks = list(
        client.chat.completions.create(
            model="tiny",
            messages=[{"role": "user", "content": "こんにちは"}],
            max_tokens=4,
            temperature=0,
            stream=True,
        )
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    plain = client.chat.completions.create(
        model="tiny",
        messages=[{"role": "user", "content": "こんにちは"}],
        max_tokens=4,
        temperature=0,
    )
    assert streamed == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == plain.choices[0].finish_reason


def test_bearer_key_is_enforced(served):
    bad = OpenAI(base_url=served, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    r = httpx.post(served + "/completions", json={"prompt": "x"})
    assert r.status_code == 401


def test_bad_requests_get_openai_shaped_400s(served):
    h = {"Authorization": f"Bearer {KEY}"}
    for body in (
        {"messages": []},
        {"messages": [{"role": "user", "content": "x"}], "n": 99},
        {"messages": [{"role": "user", "content": "x"}], "temperature": "hot"},
    ):
        r = httpx.post(served + "/chat/completions", json=body, headers=h)
        assert r.status_code == 400 and r.json()["error"]["message"]
    r = httpx.post(served + "/completions", json={"prompt": "x", "logprobs": 3}, headers=h)
    assert r.status_code == 400 and "logprobs" in r.json()["error"]["message"]


def test_concurrent_clients_through_cached_oshie_backend(served, tmp_path, monkeypatch):
    """Our own HTTP backend + cache against our server: the judge/synth path."""
    from tests.llm.helpers import batch

    monkeypatch.setenv("OSHIE_SERVE_TEST_KEY", KEY)
    llm = CachedLLM(
        OpenAICompatLLM(
            served,
            model="tiny",
            api_key_env="OSHIE_SERVE_TEST_KEY",
            concurrency=4,
            timeout=60,
            max_retries=0,
        ),
        tmp_path / "c.sqlite",
    )
    reqs = batch(6)
    for r in reqs:
        r.params.max_tokens = 4
    first = llm.generate(reqs)
    second = llm.generate(reqs)
    assert [g.text for g in first] == [g.text for g in second]
    assert all(g.cached for g in second) and llm.hits == 6


def _listening_addresses(port: int) -> set[str]:
    """Local addresses in LISTEN state on `port`, read from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:
                found.add(addr)
    return found


@pytest.mark.slow
def test_cli_serve_binds_loopback_by_default_and_enforces_env_key(tiny_model_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OSHIE_API_KEY": KEY}
    proc = subprocess.Popen(
        [sys.executable, "-m", "oshie.cli.app", "serve", str(tiny_model_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                if httpx.get(url.removesuffix("/v1") + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "oshie serve did not come up"
            time.sleep(0.2)
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only
        client = OpenAI(base_url=url, api_key=KEY, max_retries=0)
        out = client.completions.create(model="x", prompt="こんにちは", max_tokens=3)
        assert out.choices[0].finish_reason in ("stop", "length")
        with pytest.raises(openai.AuthenticationError):
            OpenAI(base_url=url, api_key="nope", max_retries=0).models.list()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert KEY not in err.decode()
    assert "Loading weights" not in err.decode()  # no transformers progress bar in the log
    said = " ".join(err.decode().split())
    assert f"on http://127.0.0.1:{port}/v1 (bearer key required)" in said


def test_without_a_key_no_auth_is_needed(local_llm):
    with InProcessServer(create_app(local_llm, "open")) as url:
        out = OpenAI(base_url=url, api_key="anything", max_retries=0).chat.completions.create(
            model="open", messages=[{"role": "user", "content": "鍵なし"}], max_tokens=2
        )
        plain = httpx.post(url + "/completions", json={"prompt": "鍵なし", "max_tokens": 2})
    assert out.choices[0].message.role == "assistant"
    assert plain.status_code == 200 and plain.json()["usage"]["completion_tokens"] <= 2


class _RecordingLLM(LLM):
    """Answers by echo and records how many requests each generate call carried."""

    backend = "echo"

    def __init__(self) -> None:
        super().__init__(model="echo")
        self.batch_sizes: list[int] = []

    async def agenerate(self, requests, *, on_result=None, desc=None):
        self.batch_sizes.append(len(requests))
        await asyncio.sleep(0.2)  # busy: requests arriving meanwhile queue up together
        return [
            Generation(text=(r.messages or [{}])[-1].get("content", r.prompt or ""))
            for r in requests
        ]

    async def _agenerate_one(self, request):
        return (await self.agenerate([request]))[0]


def test_concurrent_http_requests_share_batches():
    llm = _RecordingLLM()

    async def many(url: str) -> list[str]:
        async with httpx.AsyncClient(timeout=30) as client:

            async def one(i: int) -> str:
                body = {"messages": [{"role": "user", "content": f"問{i}"}], "max_tokens": 2}
                r = await client.post(url + "/chat/completions", json=body)
                return r.json()["choices"][0]["message"]["content"]

            return await asyncio.gather(*(one(i) for i in range(6)))

    with InProcessServer(create_app(llm, "echo")) as url:
        answers = asyncio.run(many(url))
    assert answers == [f"問{i}" for i in range(6)]
    assert sum(llm.batch_sizes) == 6 and max(llm.batch_sizes) > 1


def test_too_long_prompt_fails_alone_with_400(served):
    h = {"Authorization": f"Bearer {KEY}"}
    r = httpx.post(served + "/completions", json={"prompt": "日本語の文章。" * 400}, headers=h)
    assert r.status_code == 400 and "positions" in r.json()["error"]["message"]
    ok = httpx.post(served + "/completions", json={"prompt": "短い", "max_tokens": 2}, headers=h)
    assert ok.status_code == 200
