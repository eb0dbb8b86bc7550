"""`oshie serve` under hostile input: every bad request is a 4xx with a message, one bad
request never fails the others batched with it, big or slow clients cannot stall it."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from tests.llm.test_server import InProcessServer, _RecordingLLM

from oshie.llm import LocalLLM
from oshie.llm.http_guard import header_timeout_protocol
from oshie.llm.server import create_app

CHAT = {"messages": [{"role": "user", "content": "こんにちは"}], "max_tokens": 2}


@pytest.fixture(scope="module")
def served(tiny_model_dir):
    llm = LocalLLM(tiny_model_dir, batch_size=8)
    with InProcessServer(create_app(llm, "tiny", max_body_bytes=1 << 20)) as url:
        yield url


def post_raw(url: str, path: str, text: str) -> httpx.Response:
    """POST a body exactly as written (NaN, Infinity and lone surrogates are not JSON)."""
    data = text.encode("utf-8", "surrogatepass")
    return httpx.post(url + path, content=data, headers={"Content-Type": "application/json"})


BAD = [
    ("/chat/completions", '{"messages":[{"role":"user","content":"x"}],"temperature":NaN}', "NaN"),
    ("/chat/completions", '{"messages":[{"role":"user","content":"x"}],"top_p":-Infinity}', "Infinity"),
    ("/chat/completions", '{"messages":[{"role":"user","content":"x"}],"max_tokens":1e400}', "max_tokens"),
    ("/completions", '{"prompt":"x","max_tokens":Infinity}', "Infinity"),
    ("/completions", '{"prompt":"x","max_tokens":2.5}', "max_tokens"),
    ("/completions", '{"prompt":"x","seed":99999999999999999999999}', "seed"),
    ("/completions", '{"prompt":"x","seed":-99999999999999999999999}', "seed"),
    ("/completions", '{"prompt":"x","temperature":2.5}', "temperature"),
    ("/completions", '{"prompt":"x","n":0}', "'n'"),
    ("/completions", '{"prompt":"x","n":17}', "'n'"),
    ("/completions", '{"prompt":["a","b","c"],"n":8}', "at most 16"),
    ("/completions", '{"prompt":' + str(["p"] * 40).replace("'", '"') + '}', "at most 16"),
    ("/completions", '{"prompt":""}', "empty"),
    ("/completions", '{"prompt":["ok",""]}', "empty"),
    ("/completions", r'{"prompt":"\ud800"}', "surrogate"),
    ("/chat/completions", r'{"messages":[{"role":"user","content":"a\udc00b"}]}', "surrogate"),
    ("/chat/completions", r'{"messages":[{"role":"user","content":"x"}],"stop":["\ud83d"]}', "surrogate"),
    ("/completions", '{"prompt":"\udc80"}', "UTF-8"),
    ("/chat/completions", '{"messages":[{"role":"robot","content":"x"}]}', "role"),
    ("/chat/completions", '{"messages":' + "[" * 5000 + "]" * 5000 + "}", "nest"),
    ("/chat/completions", "[1, 2]", "JSON object"),
    ("/chat/completions", "{not json", "not valid JSON"),
]


@pytest.mark.parametrize(("path", "text", "word"), BAD, ids=[b[1][:40] for b in BAD])
def test_each_bad_request_is_a_400_naming_the_problem(served, path, text, word):
    r = post_raw(served, path, text)
    assert r.status_code == 400, r.text
    assert word.lower() in r.json()["error"]["message"].lower()


def test_a_bad_request_never_fails_the_good_ones_sent_with_it(served):
    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:

            async def good(i: int) -> httpx.Response:
                body = {"messages": [{"role": "user", "content": f"問{i}"}], "max_tokens": 3}
                return await client.post(served + "/chat/completions", json=body)

            async def bad(text: str) -> httpx.Response:
                data = text.encode("utf-8", "surrogatepass")
                return await client.post(served + "/completions", content=data)

            return await asyncio.gather(
                bad('{"prompt":"x","temperature":NaN}'),
                *(good(i) for i in range(15)),
                bad('{"prompt":"x","seed":1e30}'),
                bad('{"prompt":""}'),
            )

    answers = asyncio.run(burst())
    assert [r.status_code for r in answers] == [400] + [200] * 15 + [400, 400]
    assert all(r.json()["choices"][0]["message"]["role"] == "assistant" for r in answers[1:16])


class _PoisonLLM(_RecordingLLM):
    """Generation itself fails for any batch holding the word 毒 (a backend failure that
    validation cannot foresee)."""

    async def agenerate(self, requests, *, on_result=None, desc=None):
        if any("毒" in (r.messages or [{}])[-1].get("content", "") for r in requests):
            self.batch_sizes.append(len(requests))
            await asyncio.sleep(0.05)
            raise RuntimeError("the backend broke on this request")
        return await super().agenerate(requests)


def test_a_request_that_breaks_generation_fails_alone(caplog):
    llm = _PoisonLLM()

    async def burst(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            texts = ["毒"] + [f"問{i}" for i in range(7)]
            bodies = [{"messages": [{"role": "user", "content": t}]} for t in texts]
            return await asyncio.gather(
                *(client.post(url + "/chat/completions", json=b) for b in bodies)
            )

    with InProcessServer(create_app(llm, "echo")) as url:
        answers = asyncio.run(burst(url))
    assert answers[0].status_code == 500 and "broke" in answers[0].json()["error"]["message"]
    assert [r.status_code for r in answers[1:]] == [200] * 7
    assert [r.json()["choices"][0]["message"]["content"] for r in answers[1:]] == [
        f"問{i}" for i in range(7)
    ]
    assert max(llm.batch_sizes) > 1  # they really were batched together


def test_a_body_over_the_limit_is_413_and_health_stays_fast(served):
    stop = threading.Event()
    latencies: list[float] = []

    def poll() -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                t0 = time.perf_counter()
                assert client.get(served.removesuffix("/v1") + "/health").status_code == 200
                latencies.append(time.perf_counter() - t0)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        big = httpx.post(served + "/completions", json={"prompt": "長" * (3 << 20)}, timeout=60)
    finally:
        stop.set()
        poller.join()
    assert big.status_code == 413 and "larger than 1 MiB" in big.json()["error"]["message"]
    assert latencies and max(latencies) < 1.0


def test_chunked_body_over_the_limit_is_413(served):
    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    r = httpx.post(served + "/completions", content=chunks(), timeout=30)
    assert r.status_code == 413


def test_slow_header_clients_are_closed(tiny_model_dir):
    import uvicorn

    app = create_app(_RecordingLLM(), "echo")
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                            http=header_timeout_protocol(0.5))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        for c in clients:
            c.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n")  # never finished
            c.settimeout(5)
        t0 = time.monotonic()
        assert all(c.recv(100) == b"" for c in clients)  # closed by the server
        assert time.monotonic() - t0 < 3
        ok = httpx.get(f"http://127.0.0.1:{port}/health")
        assert ok.status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_client_that_disconnects_is_not_a_generation_failure(served, caplog):
    caplog.set_level(logging.DEBUG, logger="oshie.llm.server")
    host, port = served.removeprefix("http://").removesuffix("/v1").split(":")
    with socket.create_connection((host, int(port))) as c:
        c.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                  b"\r\nContent-Length: 1000\r\n\r\n{\"prompt\": \"")
    time.sleep(0.5)
    ok = httpx.post(served + "/completions", json={"prompt": "まだ", "max_tokens": 1})
    assert ok.status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "Traceback" not in caplog.text


def test_server_reports_its_model_fingerprint(served, tiny_model_dir):
    fp = LocalLLM(tiny_model_dir).fingerprint
    assert httpx.get(served + "/models").json()["data"][0]["fingerprint"] == fp
    r = httpx.post(served + "/chat/completions", json=CHAT)
    assert r.json()["system_fingerprint"] == fp


def _serve(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oshie.cli.app", "serve", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_serve_port_out_of_range_is_a_usage_error(tiny_model_dir):
    r = _serve(str(tiny_model_dir), "--port", "99999")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "'--port'" in r.stderr and "65535" in r.stderr


def test_serve_on_a_port_in_use_fails_before_saying_it_serves(tiny_model_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = _serve(str(tiny_model_dir), "--port", str(port))
    said = r.stdout + r.stderr
    assert r.returncode == 2, said
    assert f"port {port} on 127.0.0.1 is already in use" in " ".join(said.split())
    assert "serving" not in said and "loading" not in said and "Traceback" not in said


def test_generation_params_refuse_nan_and_overflowing_seeds():
    from pydantic import ValidationError

    from oshie.llm import GenerationParams

    for bad in ({"temperature": float("nan")}, {"top_p": float("inf")}, {"seed": 2**64},
                {"max_tokens": 0}):
        with pytest.raises(ValidationError):
            GenerationParams(**bad)
