"""Where shard tasks run: `local` (a multiprocessing pool over shards) or `ray` (Ray Data over
the same shard list). No scheduler of our own: a task is a plain dict, the function a
module-level pure function of it that writes its outputs atomically under names fixed by the
shard number, so a task that is retried (a killed worker) rewrites the same files and a run
gives the same bytes on either engine.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable
from typing import Any

from oshie.console import track
from oshie.errors import UsageError, require

ENGINES = ("local", "ray")
Task = dict[str, Any]


def _ray_call(fn: Callable[[Task], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def run(row: dict[str, Any]) -> dict[str, Any]:
        return {"result": json.dumps(fn(json.loads(row["task"])), ensure_ascii=False)}

    return run


def map_tasks(fn: Callable[[Task], dict[str, Any]], tasks: list[Task], *, engine: str = "local",
              workers: int | None = None, ray_address: str | None = None, description: str = "shards",
              max_retries: int = 3) -> list[dict[str, Any]]:
    """`fn(task)` for every task, results in task order. Every task has an `index` and its
    result echoes it: that is how the results of an engine that reorders come back in order."""
    if engine not in ENGINES:
        raise UsageError(f"unknown engine '{engine}'", hint=f"use one of: {', '.join(ENGINES)}")
    if not tasks:
        return []
    if engine == "ray":
        return _map_ray(fn, tasks, ray_address, max_retries)
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    if workers == 1:
        return [fn(t) for t in track(tasks, description)]
    ctx = multiprocessing.get_context("spawn" if os.name == "nt" else "forkserver")
    with ctx.Pool(workers) as pool:
        return list(track(pool.imap(fn, tasks), description, total=len(tasks)))


def _map_ray(fn: Callable[[Task], dict[str, Any]], tasks: list[Task], address: str | None,
             max_retries: int) -> list[dict[str, Any]]:
    ray = require("ray", "corpus")
    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    rows = [{"task": json.dumps(t, ensure_ascii=False)} for t in tasks]
    ds = ray.data.from_items(rows, override_num_blocks=len(rows))
    # one task per shard, each retried on worker death (not on our own errors: those are bugs or bad data)
    out = ds.map(_ray_call(fn), num_cpus=1, ray_remote_args_fn=lambda: {"max_retries": max_retries}).take_all()
    results = sorted((json.loads(r["result"]) for r in out), key=lambda r: r["index"])
    if [r["index"] for r in results] != [t["index"] for t in tasks]:
        raise RuntimeError(f"ray returned results for shards {[r['index'] for r in results]}, expected each once")
    return results
