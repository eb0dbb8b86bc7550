"""`oshie corpus clean`: rule filters and normalisers over document shards.

`clean_batch` is the step: a pure function of a batch of documents and the config. The
shard function around it reads one input shard in batches and writes `kept/`, `rejected/`
(each document with its reason), `quarantine/` (unreadable records with file and position)
and `done/` (the shard's statistics, for resume and the manifest).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oshie.corpus.boilerplate import host_of, parse_meta, site_repeated_lines
from oshie.corpus.filters import Compose, add_stats
from oshie.corpus.presets import CleanConfig, build_filters
from oshie.corpus.run import EngineOptions, StepResult, prepare, run_step
from oshie.corpus.shards import ShardWriter, doc_counts, mark_done, part_name, write_quarantine
from oshie.corpus.streams import Document, batches, read_shard


def clean_batch(docs: list[Document], cfg: CleanConfig,
                compose: Compose | None = None) -> tuple[list[Document], list[Document], dict[str, dict[str, Any]]]:
    """(kept, rejected with `reason`, per-filter statistics). Pass `compose` to reuse built
    filters across the batches of a shard; its statistics then accumulate."""
    compose = compose or Compose(build_filters(cfg))
    metas = [parse_meta(d.get("meta")) for d in docs]
    repeated = (site_repeated_lines(metas, [d["text"] for d in docs], cfg.boilerplate.min_pages)
                if cfg.boilerplate.enabled else {})
    kept, rejected = [], []
    for doc, meta in zip(docs, metas, strict=True):
        view_meta = {**meta, "_repeated": repeated.get(host_of(meta) or "", set())}
        text, reason = compose(doc["text"], view_meta)
        if "quality_score" in view_meta:
            doc = {**doc, "meta": json.dumps({**meta, "quality_score": view_meta["quality_score"]},
                                             ensure_ascii=False, sort_keys=True)}
        if reason is None:
            kept.append({**doc, "text": text})
        else:
            rejected.append({**doc, "reason": reason})
    return kept, rejected, compose.stats_dict()


def clean_shard(task: dict[str, Any]) -> dict[str, Any]:
    """Clean one input shard (an engine task; see `oshie.corpus.engine`)."""
    from oshie.corpus.shards import REJECT_SCHEMA

    cfg = CleanConfig.model_validate(task["config"])
    out = Path(task["out_dir"])
    name = part_name(task["index"])
    kept_w = ShardWriter(out / "kept" / name, task["format"])
    rej_w = ShardWriter(out / "rejected" / name, task["format"], REJECT_SCHEMA)
    quarantined = []
    compose = Compose(build_filters(cfg))
    filters: dict[str, dict[str, Any]] = {}
    tally: dict[str, dict[str, int]] = {}
    n_in = 0
    docs_iter = read_shard(task["path"], source=task.get("source"), text_field=task["text_field"])
    for docs, bad in batches(docs_iter, cfg.batch_size):
        quarantined += bad
        n_in += len(docs) + len(bad)
        doc_counts(docs, tally, bucket="in")
        kept, rejected, filters = clean_batch(docs, cfg, compose)
        doc_counts(kept, tally, bucket="kept")
        kept_w.write(kept)
        rej_w.write(rejected)
    kept_w.close()
    rej_w.close()
    write_quarantine(out / "quarantine" / f"{name}.jsonl", quarantined)
    result = {
        "index": task["index"], "input": task["path"], "key": task["key"], "in": n_in,
        "kept": kept_w.count, "rejected": rej_w.count, "quarantined": len(quarantined),
        "by_source": tally, "filters": filters or compose.stats_dict(),
    }
    mark_done(out, task["index"], result)
    return result


def run_clean(inputs: list[Path], out_dir: Path, cfg: CleanConfig, *, text_field: str = "text",
              source: str | None = None, fmt: str = "parquet", opts: EngineOptions | None = None) -> StepResult:
    shards = prepare(inputs, out_dir, text_field=text_field, fmt=fmt)
    config = cfg.model_dump(mode="json")
    return run_step("corpus-clean", clean_shard, shards, out_dir,
                    config={"clean": config, "text_field": text_field, "source": source, "format": fmt},
                    task_extra={"config": config, "text_field": text_field, "source": source, "format": fmt},
                    opts=opts or EngineOptions(), description="clean", summarise=_filter_totals)


def _filter_totals(stats: list[dict[str, Any]]) -> dict[str, Any]:
    filters: dict[str, dict[str, Any]] = {}
    for s in stats:
        add_stats(filters, s["filters"])
    return {"filters": filters}
