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
from oshie.corpus.shards import mark_done, split_shard
from oshie.corpus.streams import Document


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
    cfg = CleanConfig.model_validate(task["config"])
    compose = Compose(build_filters(cfg))
    filters: dict[str, dict[str, Any]] = {}

    def split(docs: list[Document]) -> tuple[list[Document], list[Document]]:
        nonlocal filters
        kept, rejected, filters = clean_batch(docs, cfg, compose)
        return kept, rejected

    result = split_shard(task, split, cfg.batch_size)
    result["filters"] = filters or compose.stats_dict()
    mark_done(Path(task["out_dir"]), task["index"], result)
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
