"""Throughput of oshie's HTTP backend and cache against the official `openai` client.

Both talk to the same local OpenAI-protocol test server, which answers every call after
a fixed simulated latency; both run with the same concurrency. Run by hand:

    .venv/bin/python bench/llm_client.py [--n 400] [--concurrency 16] [--latency 0.02]

Prints wall time and requests/s side by side, and the ratio oshie / openai.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400, help="requests per run")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--latency", type=float, default=0.02, help="server seconds per call")
    args = ap.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support
    from openai import AsyncOpenAI
    from tests.support.openai_server import OpenAITestServer, last_user_text

    from oshie.llm import CachedLLM, LLMRequest, OpenAICompatLLM

    def respond(kind: str, body: dict) -> str:
        time.sleep(args.latency)
        return "答え:" + last_user_text(body)

    questions = [f"質問{i}：日本の都道府県について教えてください。" for i in range(args.n)]

    async def with_openai(url: str) -> list[str]:
        client = AsyncOpenAI(base_url=url, api_key="x", max_retries=3)
        sem = asyncio.Semaphore(args.concurrency)

        async def one(q: str) -> str:
            async with sem:
                r = await client.chat.completions.create(
                    model="m",
                    messages=[{"role": "user", "content": q}],
                    max_tokens=64,
                    temperature=0,
                )
                return r.choices[0].message.content or ""

        try:
            return list(await asyncio.gather(*(one(q) for q in questions)))
        finally:
            await client.close()

    reqs = [LLMRequest(messages=[{"role": "user", "content": q}]) for q in questions]
    for r in reqs:
        r.params.max_tokens = 64
    rows = []
    with OpenAITestServer(respond) as srv, tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ref = asyncio.run(with_openai(srv.base_url))
        rows.append(("openai AsyncOpenAI", time.perf_counter() - t0))

        llm = OpenAICompatLLM(
            srv.base_url,
            model="m",
            api_key_env=None,
            concurrency=args.concurrency,
            max_retries=3,
            backoff_base=0.05,
        )
        t0 = time.perf_counter()
        ours = [g.text for g in llm.generate(reqs)]
        rows.append(("oshie OpenAICompatLLM", time.perf_counter() - t0))
        assert ours == ref, "the two clients disagree"

        cached = CachedLLM(llm, Path(tmp) / "cache.sqlite")
        t0 = time.perf_counter()
        cached.generate(reqs)
        rows.append(("oshie CachedLLM (cold, writes)", time.perf_counter() - t0))
        t0 = time.perf_counter()
        cached.generate(reqs)
        rows.append(("oshie CachedLLM (warm, all hits)", time.perf_counter() - t0))

    base = rows[0][1]
    print(
        f"{args.n} chat requests, concurrency {args.concurrency}, "
        f"server latency {args.latency * 1000:.0f} ms"
    )
    print(f"{'client':34} {'wall s':>8} {'req/s':>9} {'vs openai':>10}")
    for name, secs in rows:
        print(f"{name:34} {secs:8.2f} {args.n / secs:9.1f} {base / secs:9.2f}x")


if __name__ == "__main__":
    main()
