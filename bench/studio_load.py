"""Load on oshie studio: concurrent people doing the real write/review flow over HTTP.

A temp project on SQLite is served by the real CLI (`oshie studio serve`, uvicorn, 127.0.0.1)
in a subprocess. Simulated people (httpx, one cookie jar each) sign in and, until the time
is up, writers write questions, answerers answer questions from their queue, and checkers
open answers from their review queue and approve them or request changes. Every save is a
form POST with the CSRF token, exactly as a browser sends it.

Afterwards the database is read back: every acknowledged save (a 303 answer) must be stored
exactly once, and nothing may be stored that was not acknowledged, except saves whose
response never arrived (reported separately). Latency p50/p95 per action is printed.
Run by hand:

    .venv/bin/python bench/studio_load.py [--users 50] [--seconds 60]

Accounts are created with argon2's cheapest parameters: sign-in cost is not what this measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import numpy as np

PASSWORD = "load-test-password"
TOKEN = re.compile(r"\[load:([a-z0-9-]+)\]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter[str] = Counter()
        self.acked: dict[str, set[str]] = defaultdict(set)  # kind -> tokens acknowledged
        self.unknown: dict[str, set[str]] = defaultdict(set)  # sent, no response (timeout)

    async def call(self, kind: str, coro) -> httpx.Response | None:  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            r = await coro
        except httpx.HTTPError as exc:
            self.status[f"{kind}:{type(exc).__name__}"] += 1
            return None
        self.latency[kind].append(time.perf_counter() - t0)
        self.status[f"{kind}:{r.status_code}"] += 1
        return r


async def person(base: str, name: str, role: str, deadline: float, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False) as c:
        await c.get("/login")
        csrf = c.cookies.get("oshie_csrf")
        r = await c.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf})
        if r.status_code != 303:
            stats.status[f"login:{r.status_code}"] += 1
            return
        n = 0
        while time.monotonic() < deadline:
            n += 1
            token = f"{name}-{n}"
            if role == "writer":
                data = {"csrf": csrf, "instruction": f"日本の地理について質問です。{rng.randint(1, 10**6)}番の川について説明してください。[load:{token}]",
                        "genre": "一般知識", "purpose": "説明"}
                r = await stats.call("write_question", c.post("/questions", data=data))
                if r is None:
                    stats.unknown["question"].add(token)
                elif r.status_code == 303:
                    stats.acked["question"].add(token)
            elif role == "answerer":
                page = await stats.call("page_home", c.get("/"))
                ids = re.findall(r'href="/questions/(\d+)"', page.text) if page is not None else []
                if not ids:
                    await asyncio.sleep(0.2)
                    continue
                qid = rng.choice(ids[:10])
                data = {"csrf": csrf, "answer": f"その川は山から海へ流れる大きな川です。流域には町が広がります。[load:{token}]"}
                r = await stats.call("write_answer", c.post(f"/questions/{qid}/answers", data=data))
                if r is None:
                    stats.unknown["answer"].add(token)
                elif r.status_code == 303:
                    stats.acked["answer"].add(token)
            else:
                page = await stats.call("page_home", c.get("/"))
                ids = re.findall(r'href="/answers/(\d+)"', page.text) if page is not None else []
                if not ids:
                    await asyncio.sleep(0.2)
                    continue
                aid = rng.choice(ids[:10])
                page = await stats.call("page_answer", c.get(f"/answers/{aid}"))
                m = re.search(r'action="/answers/\d+/review"[\s\S]*?name="version" value="(\d+)"', page.text) if page else None
                if not m:
                    continue  # someone else decided it meanwhile
                action = "approve" if rng.random() < 0.8 else "request_changes"
                data = {"csrf": csrf, "version": m.group(1), "action": action, "comment": f"確認しました。[load:{token}]"}
                r = await stats.call("review", c.post(f"/answers/{aid}/review", data=data))
                if r is None:
                    stats.unknown["review"].add(token)
                elif r.status_code == 303:
                    stats.acked["review"].add(token)


def stored_tokens(db: Path) -> dict[str, Counter[str]]:
    conn = sqlite3.connect(db)
    out = {
        "question": Counter(m for (t,) in conn.execute("SELECT instruction FROM questions") for m in TOKEN.findall(t)),
        "answer": Counter(m for (t,) in conn.execute("SELECT text FROM answers") for m in TOKEN.findall(t)),
        # a review's comment is overwritten by a later one, the history keeps every decision
        "review": Counter(m for (t,) in conn.execute(
            "SELECT after FROM history WHERE entity='answer' AND action IN ('approve','request_changes')")
            for m in TOKEN.findall(json.loads(t)["review_comment"])),
    }
    conn.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=50, help="simulated people (at most 200)")
    ap.add_argument("--seconds", type=float, default=60, help="how long they work (at most 600)")
    args = ap.parse_args()
    users, seconds = min(args.users, 200), min(args.seconds, 600)

    from oshie.studio import open_studio
    from oshie.studio.auth import add_user, use_cheap_hashing
    from oshie.studio.project import init_project

    use_cheap_hashing()
    with tempfile.TemporaryDirectory(prefix="oshie-studio-load-") as tmp:
        project = Path(tmp) / "proj"
        init_project(project)
        studio = open_studio(project)
        roles = {}
        with studio.db.transaction() as s:
            for i in range(users):
                role = "writer" if i % 10 < 4 else "answerer" if i % 10 < 8 else "checker"
                roles[f"{role}{i}"] = role
                add_user(s, f"{role}{i}", PASSWORD, role)
        studio.db.dispose()
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "oshie.cli.app", "-q", "studio", "serve", str(project),
                                   "--host", "127.0.0.1", "--port", str(port)])
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(base + "/login", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            stats = Stats()
            t0 = time.monotonic()

            async def run() -> None:
                deadline = time.monotonic() + seconds
                await asyncio.gather(*(person(base, name, role, deadline, stats, k)
                                       for k, (name, role) in enumerate(roles.items())))

            asyncio.run(run())
            wall = time.monotonic() - t0
        finally:
            server.terminate()
            server.wait(timeout=30)
        stored = stored_tokens(project / "studio.db")

    print(f"oshie studio load: {users} people ({Counter(roles.values())}), {seconds:.0f} s, SQLite, wall {wall:.1f} s")
    print(f"{'action':16} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, values in sorted(stats.latency.items()):
        v = np.array(values) * 1000
        print(f"{kind:16} {len(v):6d} {np.percentile(v, 50):8.1f} {np.percentile(v, 95):8.1f} {v.max():8.1f}")
    print("responses:", dict(sorted(stats.status.items())))
    bad = 0
    for kind in ("question", "answer", "review"):
        acked, found = stats.acked[kind], stored[kind]
        lost = [t for t in acked if found[t] == 0]
        dup = [t for t, k in found.items() if k > 1]
        unacked = [t for t in found if t not in acked and t not in stats.unknown[kind]]
        print(f"{kind:9} acknowledged {len(acked):6d}  stored {sum(found.values()):6d}  lost {len(lost)}  "
              f"duplicated {len(dup)}  stored-but-refused {len(unacked)}  no-response {len(stats.unknown[kind])}")
        bad += len(lost) + len(dup) + len(unacked)
    saves = sum(len(stats.acked[k]) for k in ("question", "answer", "review"))
    print(f"saves acknowledged: {saves} ({saves / wall:.1f}/s); problems: {bad}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
