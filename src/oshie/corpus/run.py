"""What every corpus step shares: shard listing, the output guard, tasks, resume and the manifest.

A step supplies a module-level `shard_fn(task) -> stats` (pure: the same task gives the same
files) and gets back the merged statistics; the manifest records counts, bytes, characters
(and tokens when a step counts them) per source, the config and package versions. Every
step checks `in = kept + rejected + quarantined` per shard before it writes the manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oshie.corpus.engine import map_tasks
from oshie.corpus.shards import FORMATS, finished, input_fingerprint, merge_tallies, settings_key
from oshie.corpus.streams import list_shards, shard_kind
from oshie.errors import DataError, UsageError
from oshie.paths import guard_outputs
from oshie.runs import Manifest, package_versions

CORPUS_PACKAGES = ("oshie", "numpy", "pyarrow", "zstandard", "warcio", "scikit-learn", "ray", "sentencepiece")


@dataclass
class EngineOptions:
    engine: str = "local"
    workers: int | None = None
    ray_address: str | None = None


@dataclass
class StepResult:
    out_dir: Path
    shards: list[dict[str, Any]]
    by_source: dict[str, dict[str, int]]
    totals: dict[str, int]
    manifest: Path
    extra: dict[str, Any] = field(default_factory=dict)


def precheck(shards: list[Path], text_field: str) -> None:
    """Whole-file problems before any work starts: a Parquet shard without the text column."""
    import pyarrow.parquet as pq

    for p in shards:
        if shard_kind(p)[0] != "parquet":
            continue
        try:
            names = pq.read_schema(p).names
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise DataError(f"not a readable Parquet file ({exc})", path=p) from None
        if text_field not in names:
            raise DataError(f"the Parquet file has no '{text_field}' column (columns: {', '.join(names)})",
                            path=p, field=text_field, hint="name the column that holds the text with --text-field")


def prepare(inputs: list[Path], out_dir: Path, *, text_field: str, fmt: str) -> list[Path]:
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")
    shards = list_shards(inputs)
    for s in shards:
        if out_dir.resolve() in s.resolve().parents:
            raise UsageError(f"the input {s} is inside the output directory {out_dir}",
                             hint="write the step's output to a new directory")
    guard_outputs([out_dir, out_dir / "manifest.json"], shards)
    precheck(shards, text_field)
    return shards


def run_step(stage: str, shard_fn: Callable[[dict[str, Any]], dict[str, Any]], shards: list[Path], out_dir: Path,
             *, config: dict[str, Any], task_extra: dict[str, Any], opts: EngineOptions,
             description: str,
             summarise: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None) -> StepResult:
    """Run `shard_fn` over the shards (skipping finished ones) and write the manifest."""
    key = settings_key(config)
    results: list[dict[str, Any] | None] = []
    tasks = []
    for i, p in enumerate(shards):
        task_key = settings_key({"settings": key, "input": input_fingerprint(p)})
        done = finished(out_dir, i, task_key)
        results.append(done)
        if done is None:
            tasks.append({"index": i, "path": str(p), "out_dir": str(out_dir), "key": task_key, **task_extra})
    fresh = map_tasks(shard_fn, tasks, engine=opts.engine, workers=opts.workers,
                      ray_address=opts.ray_address, description=description)
    for r in fresh:
        results[r["index"]] = r
    stats = [r for r in results if r is not None]
    for s in stats:
        if s["in"] != s["kept"] + s["rejected"] + s["quarantined"]:
            raise RuntimeError(f"shard {s['index']}: {s['in']} in != {s['kept']} kept + "
                               f"{s['rejected']} rejected + {s['quarantined']} quarantined")
    totals = {k: sum(s[k] for s in stats) for k in ("in", "kept", "rejected", "quarantined")}
    by_source = merge_tallies([s["by_source"] for s in stats])
    manifest = Manifest(out_dir, stage, config)
    manifest.set("versions", package_versions(CORPUS_PACKAGES))
    manifest.set("inputs", {str(p): {"fingerprint": input_fingerprint(p)} for p in shards})
    manifest.set("engine", opts.engine)
    extra = summarise(stats) if summarise else {}
    path = manifest.write(totals=totals, by_source=by_source, resumed=len(shards) - len(tasks), **extra,
                          shards=[{k: v for k, v in s.items() if k not in ("by_source", "key")} for s in stats])
    return StepResult(out_dir, stats, by_source, totals, path, extra)
