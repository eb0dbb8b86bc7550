"""Fuzz `oshie serve`: malformed and extreme requests mixed with valid ones, on a tiny model.

    python bench/serve_fuzz.py                  # builds a tiny random model in a temp dir
    python bench/serve_fuzz.py --model DIR --malformed 2000 --valid 500 --seed 0

Starts `oshie serve` on 127.0.0.1 (a free port) and checks, within a bounded count and time:
- every malformed request gets a 4xx whose body carries an error message;
- every valid request gets a 200 whose body is a well-formed completion (choices = prompts x n,
  usage within max_tokens, finish_reason stop/length);
- `/health` stays fast: its p50/p99 are printed for the whole run and for the window in
  which 10 MB prompts are being rejected (the p99 there must be < 100 ms);
- 50 clients that never finish their headers are closed by the server;
- the server log holds no traceback.
Exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

CHAT, COMP = "/v1/chat/completions", "/v1/completions"
WORDS = ["日本", "の", "首都", "は", "東京", "です", "。", "富士山", "高さ", "教えて", "ください", "、"]


def tiny_model(work: Path) -> Path:
    """A random tiny Llama with a BPE tokenizer trained on the shipped sample corpus."""
    from importlib import resources

    from oshie.train.tiny import init_model
    from oshie.train.tokenizer import train_bpe_tokenizer

    text = resources.files("oshie").joinpath("resources/corpus/ja_sample.txt").read_text("utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    tok = train_bpe_tokenizer(lines, vocab_size=600, out_dir=work / "tok")
    return init_model(tok, work / "model", preset="tiny", seed=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sentence(rng: random.Random, n: int = 6) -> str:
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(1, n)))


# -- requests ------------------------------------------------------------------------------

@dataclass
class Case:
    kind: str  # "valid" or the name of the malformation
    path: str
    body: bytes
    expect: dict[str, Any] = field(default_factory=dict)  # valid: choices, max_tokens


def valid_case(rng: random.Random) -> Case:
    n = rng.randint(1, 3)
    max_tokens = rng.randint(1, 8)
    params: dict[str, Any] = {"max_tokens": max_tokens, "n": n}
    if rng.random() < 0.7:
        params["temperature"] = round(rng.uniform(0, 1.5), 2)
    if rng.random() < 0.5:
        params["top_p"] = round(rng.uniform(0.1, 1.0), 2)
    if rng.random() < 0.5:
        params["seed"] = rng.randint(-(2**62), 2**62)
    if rng.random() < 0.3:
        params["stop"] = [rng.choice(WORDS)]
    if rng.random() < 0.5:
        msgs = [{"role": "user", "content": sentence(rng)}]
        if rng.random() < 0.3:
            msgs.insert(0, {"role": "system", "content": sentence(rng)})
        body = {"model": "x", "messages": msgs, **params}
        return Case("valid", CHAT, json.dumps(body, ensure_ascii=False).encode(),
                    {"choices": n, "max_tokens": max_tokens, "chat": True})
    prompts: Any = sentence(rng)
    count = 1
    if rng.random() < 0.3:
        count = rng.randint(2, 16 // n)
        prompts = [sentence(rng) for _ in range(count)]
    body = {"model": "x", "prompt": prompts, **params}
    return Case("valid", COMP, json.dumps(body, ensure_ascii=False).encode(),
                {"choices": n * count, "max_tokens": max_tokens, "chat": False})


def _chat(extra: str = "", content: str = '"こんにちは"') -> bytes:
    return ('{"messages":[{"role":"user","content":' + content + "}]" + extra + "}").encode()


def malformed_case(rng: random.Random) -> Case:
    """One request that must be refused with a 4xx (chosen at random among many shapes)."""
    big = str(rng.choice([10**30, -(10**30), 2**64, 2**63]))
    bad_number = rng.choice(["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
    makers = {
        "nan_temperature": lambda: (CHAT, _chat(f',"temperature":{bad_number}')),
        "nan_top_p": lambda: (CHAT, _chat(f',"top_p":{bad_number}')),
        "inf_max_tokens": lambda: (COMP, f'{{"prompt":"x","max_tokens":{bad_number}}}'.encode()),
        "huge_seed": lambda: (COMP, f'{{"prompt":"x","seed":{big}}}'.encode()),
        "float_seed": lambda: (COMP, b'{"prompt":"x","seed":1.5}'),
        "temperature_range": lambda: (CHAT, _chat(f',"temperature":{rng.choice([-1, 2.5, 100])}')),
        "top_p_range": lambda: (CHAT, _chat(f',"top_p":{rng.choice([-0.1, 1.5])}')),
        "max_tokens_range": lambda: (COMP, f'{{"prompt":"x","max_tokens":{rng.choice([0, -5, 10**9])}}}'.encode()),
        "n_range": lambda: (CHAT, _chat(f',"n":{rng.choice([0, -1, 17, 1000])}')),
        "prompts_times_n": lambda: (COMP, json.dumps({"prompt": ["a"] * rng.randint(5, 40), "n": 16}).encode()),
        "prompt_list_too_long": lambda: (COMP, json.dumps({"prompt": ["a"] * rng.randint(17, 200)}).encode()),
        "empty_prompt": lambda: (COMP, rng.choice([b'{"prompt":""}', b'{"prompt":["ok",""]}', b'{"prompt":[]}'])),
        "lone_surrogate": lambda: (rng.choice([CHAT, COMP]), rng.choice([
            _chat(content=r'"a\ud800b"'), b'{"prompt":"\\udfff"}', _chat(',"stop":["\\ud83d"]')])),
        "invalid_utf8": lambda: (COMP, b'{"prompt":"\xff\xfe"}'),
        "not_json": lambda: (rng.choice([CHAT, COMP]), rng.choice([b"{", b"hello", b"{'a': 1}", b'{"prompt":"x",}'])),
        "not_object": lambda: (rng.choice([CHAT, COMP]), rng.choice([b"[]", b"1", b'"x"', b"null"])),
        "deep_nesting": lambda: (CHAT, b'{"messages":' + b"[" * rng.randint(100, 50000) + b"]" * 3 + b"}"),
        "wrong_types": lambda: (CHAT, rng.choice([
            _chat(',"temperature":"hot"'), _chat(',"n":"2"'), _chat(',"stop":7'), _chat(',"max_tokens":true'),
            b'{"messages":"hi"}', b'{"messages":[1]}', _chat(content="5"), _chat(content='[{"type":"image"}]')])),
        "bad_role": lambda: (CHAT, b'{"messages":[{"role":"robot","content":"x"}]}'),
        "missing_field": lambda: (rng.choice([CHAT, COMP]), b'{"model":"x"}'),
        "unsupported": lambda: (COMP, rng.choice([b'{"prompt":"x","logprobs":5}', b'{"prompt":"x","echo":true}',
                                                  b'{"prompt":"x","best_of":3}'])),
        "too_many_stops": lambda: (CHAT, _chat(',"stop":' + json.dumps(["a"] * 40))),
        "too_long_for_model": lambda: (COMP, json.dumps({"prompt": "日本語の文章。" * 2000}).encode()),
        "over_body_limit": lambda: (COMP, b'{"prompt":"' + b"a" * (5 << 20) + b'"}'),
    }
    weights = {"over_body_limit": 0.1, "deep_nesting": 0.5, "too_long_for_model": 0.5}
    names = list(makers)
    name = rng.choices(names, [weights.get(n, 1.0) for n in names])[0]
    path, body = makers[name]()
    return Case(name, path, body)


# -- checks --------------------------------------------------------------------------------

def check(case: Case, status: int, text: str) -> str | None:
    """None when the answer is right, else what is wrong."""
    try:
        data = json.loads(text)
    except ValueError:
        return f"HTTP {status}, body not JSON: {text[:80]!r}"
    if case.kind != "valid":
        message = (data.get("error") or {}).get("message") if isinstance(data, dict) else None
        if not 400 <= status < 500:
            return f"HTTP {status} (want 4xx): {text[:120]}"
        return None if message else f"HTTP {status} without an error message"
    if status != 200:
        return f"HTTP {status} (want 200): {text[:160]}"
    choices = data.get("choices")
    if not isinstance(choices, list) or len(choices) != case.expect["choices"]:
        return f"{len(choices or [])} choices, want {case.expect['choices']}"
    if [c.get("index") for c in choices] != list(range(len(choices))):
        return "choice indexes out of order"
    for c in choices:
        content = c["message"]["content"] if case.expect["chat"] else c.get("text")
        if not isinstance(content, str) or c.get("finish_reason") not in ("stop", "length"):
            return f"bad choice {c}"
    usage = data.get("usage") or {}
    if not 0 <= usage.get("completion_tokens", -1) <= case.expect["max_tokens"] * len(choices):
        return f"completion_tokens {usage.get('completion_tokens')} over the budget"
    if usage.get("total_tokens") != usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0):
        return "usage does not add up"
    return None


class HealthPoller:
    """Polls /health from a thread; latencies are kept per named window."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.window = "run"
        self.latencies: dict[str, list[float]] = {}
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.is_set():
                t0 = time.perf_counter()
                try:
                    ok = client.get(self.base + "/health").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.latencies.setdefault(self.window, []).append(time.perf_counter() - t0)
                self.failures += not ok
                time.sleep(0.005)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


async def fire(base: str, cases: list[Case], concurrency: int, deadline: float) -> list[str]:
    problems: list[str] = []
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one(case: Case) -> None:
            async with sem:
                if time.monotonic() > deadline:
                    problems.append(f"{case.kind}: not sent (time limit)")
                    return
                try:
                    r = await client.post(base + case.path, content=case.body,
                                          headers={"Content-Type": "application/json"})
                    why = check(case, r.status_code, r.text)
                except httpx.HTTPError as exc:
                    why = f"transport error {type(exc).__name__}: {exc}"
                if why:
                    problems.append(f"{case.kind}: {why}")

        await asyncio.gather(*(one(c) for c in cases))
    return problems


def slow_clients(port: int, count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        socks.append(s)
    return socks


def closed_by_server(s: socket.socket) -> bool:
    s.settimeout(0.5)
    try:
        return s.recv(1) == b""
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:
        return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, help="model directory (default: a new tiny random one)")
    ap.add_argument("--malformed", type=int, default=2000)
    ap.add_argument("--valid", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=900.0, help="seconds for the whole run")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="serve_fuzz_"))
    model = args.model or tiny_model(work)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = work / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "OSHIE_API_KEY"}
    with open(log_path, "w", encoding="utf-8") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "oshie.cli.app", "serve", str(model), "--port", str(port),
             "--batch-size", "8"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        t_start = time.monotonic()
        while True:
            if server.poll() is not None:
                print(log_path.read_text("utf-8"))
                return 1
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        print(f"server up in {time.monotonic() - t_start:.1f}s on {base}; model {model}")
        deadline = time.monotonic() + args.time_limit
        slow = slow_clients(port, 50)
        t_slow = time.monotonic()
        cases = [malformed_case(rng) for _ in range(args.malformed)]
        cases += [valid_case(rng) for _ in range(args.valid)]
        rng.shuffle(cases)
        with HealthPoller(base) as health:
            t0 = time.monotonic()
            problems = asyncio.run(fire(base, cases, args.concurrency, deadline))
            elapsed = time.monotonic() - t0
            health.window = "10MB"
            big = b'{"prompt":"' + "長".encode() * ((10 << 20) // 3) + b'"}'
            big_status = []
            for _ in range(5):
                r = httpx.post(base + COMP, content=big, timeout=60)
                big_status.append(r.status_code)
            health.window = "after"
            time.sleep(0.2)
        slow_closed = sum(closed_by_server(s) for s in slow)
        slow_after = time.monotonic() - t_slow
        for s in slow:
            s.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    log_text = log_path.read_text("utf-8", errors="replace")
    kinds: dict[str, int] = {}
    for c in cases:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    run_lat, big_lat = health.latencies.get("run", []), health.latencies.get("10MB", [])
    print(f"requests: {len(cases)} ({args.malformed} malformed in {len(kinds) - 1} shapes, "
          f"{args.valid} valid) in {elapsed:.1f}s, concurrency {args.concurrency}")
    print(f"wrong answers: {len(problems)}")
    for p in problems[:15]:
        print("  ", p)
    print(f"10 MB prompts: HTTP {sorted(set(big_status))} x{len(big_status)}")
    print(f"/health during the run: n={len(run_lat)} p50={pct(run_lat, .5):.1f} ms "
          f"p99={pct(run_lat, .99):.1f} ms max={max(run_lat) * 1000:.1f} ms; failures {health.failures}")
    print(f"/health while 10 MB prompts are rejected: n={len(big_lat)} p50={pct(big_lat, .5):.1f} ms "
          f"p99={pct(big_lat, .99):.1f} ms max={max(big_lat, default=0) * 1000:.1f} ms")
    print(f"slow-header clients closed by the server: {slow_closed}/50 (checked {slow_after:.0f}s after "
          "they connected)")
    tracebacks = log_text.count("Traceback")
    print(f"tracebacks in the server log: {tracebacks}")
    ok = (not problems and set(big_status) == {413} and big_lat and pct(big_lat, .99) < 100
          and slow_closed == 50 and tracebacks == 0 and health.failures == 0)
    print("PASS" if ok else f"FAIL (server log: {log_path})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
