"""`oshie corpus mix`: sample a corpus to target shares of tokens per source or language.

Tokens are counted with a given tokenizer (a Hugging Face `tokenizer.json` directory, read
with `tokenizers`) or as characters (`chars`). Three phases:

1. per shard: each document's group (its `source`, or its language: the `lang` metadata, else
   ja / en / code detected from its characters) and token count, saved beside the output;
2. in the driver: a rate per group = requested tokens / available tokens (a rate above 1
   repeats documents: upsampling, at most `max_repeat` times);
3. per shard: a document is written floor(rate) times, plus once more for documents taken in
   a seeded order until the fractional part of the group's tokens in this shard is reached,
   so the sample is the same on every run and engine; documents not taken go to `rejected/`
   with the reason.

The report compares requested and achieved token shares.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from oshie.corpus.boilerplate import parse_meta
from oshie.corpus.engine import map_tasks
from oshie.corpus.run import EngineOptions, StepResult, prepare, run_step
from oshie.corpus.shards import mark_done, part_name, split_shard
from oshie.corpus.streams import Document, batches, read_shard
from oshie.errors import ConfigError, UsageError, require

_CODE = re.compile(r"[{};=]|^\s{2,}\S|\)\s*:$|\b(?:def|return|import|function|const|var|elif|print)\b", re.M)


class MixConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: dict[str, float] = Field(description="group -> share of tokens (normalised to sum to 1)")
    by: str = Field("source", description="group documents by 'source' or 'lang' (ja / en / code)")
    tokenizer: str = Field("chars", description="a tokenizer directory (tokenizer.json) or 'chars'")
    total_tokens: int | None = Field(None, ge=1, description="tokens wanted; default: as many as the scarcest group allows")
    max_repeat: float = Field(1.0, ge=1.0, description="a group's documents may be repeated up to this many times")
    seed: int = 0

    @field_validator("by")
    @classmethod
    def _by(cls, v: str) -> str:
        if v not in ("source", "lang"):
            raise ValueError("by must be 'source' or 'lang'")
        return v

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or any(x < 0 for x in v.values()) or sum(v.values()) <= 0:
            raise ValueError("targets need at least one positive share, e.g. {web: 0.7, news: 0.3}")
        total = sum(v.values())
        return {k: x / total for k, x in v.items()}


def detect_lang(text: str) -> str:
    """'ja' when at least 30% of the letters are kana/kanji, 'code' when code-like lines
    dominate, else 'en' (the groups a mixture of web text, English and code needs)."""
    from oshie.corpus.filters import DocView

    if DocView(text).japanese_ratio >= 0.3:
        return "ja"
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if lines and sum(1 for ln in lines if _CODE.search(ln)) / len(lines) >= 0.5:
        return "code"
    return "en"


@lru_cache(maxsize=2)
def _tokenizer(spec: str) -> Any:
    if spec == "chars":
        return None
    path = Path(spec)
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file():
        raise UsageError("no tokenizer.json here", path=path, hint="give a tokenizer directory saved by `oshie tokenizer train`, or 'chars'")
    return require("tokenizers", "train").Tokenizer.from_file(str(file))


def token_counts(texts: list[str], spec: str) -> np.ndarray:
    tok = _tokenizer(spec)
    if tok is None:
        return np.array([len(t) for t in texts], dtype=np.int64)
    return np.array([len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False)], dtype=np.int64)


def group_of(doc: Document, by: str) -> str:
    if by == "source":
        return doc["source"]
    lang = parse_meta(doc.get("meta")).get("lang")
    return str(lang) if lang else detect_lang(doc["text"])


def count_shard(task: dict[str, Any]) -> dict[str, Any]:
    """Phase 1: groups and token counts of one shard (saved for phase 3)."""
    cfg = MixConfig.model_validate(task["config"])
    groups: list[str] = []
    tokens: list[np.ndarray] = []
    docs_iter = read_shard(task["path"], source=task.get("source"), text_field=task["text_field"])
    for docs, _bad in batches(docs_iter, 2048):
        groups += [group_of(d, cfg.by) for d in docs]
        tokens.append(token_counts([d["text"] for d in docs], cfg.tokenizer))
    counts = np.concatenate(tokens) if tokens else np.zeros(0, dtype=np.int64)
    work = Path(task["work"])
    work.mkdir(parents=True, exist_ok=True)
    (work / f"{part_name(task['index'])}.json").write_text(json.dumps({"groups": groups, "tokens": counts.tolist()}))
    by_group: dict[str, list[int]] = {}
    for g, n in zip(groups, counts.tolist(), strict=True):
        c = by_group.setdefault(g, [0, 0])
        c[0] += 1
        c[1] += n
    return {"index": task["index"], "groups": by_group}


def rates_for(available: dict[str, int], cfg: MixConfig) -> tuple[dict[str, float], int]:
    """(rate per group, total tokens asked) for the targets."""
    missing = [g for g, share in cfg.targets.items() if share > 0 and not available.get(g)]
    if missing:
        raise ConfigError(f"no documents in group(s) {', '.join(missing)}", field="targets",
                          hint=f"groups found (by {cfg.by}): {', '.join(sorted(available)) or 'none'}")
    total = cfg.total_tokens or int(min(available[g] * cfg.max_repeat / s for g, s in cfg.targets.items() if s > 0))
    rates = {}
    for g, share in cfg.targets.items():
        rate = share * total / available[g] if share > 0 else 0.0
        if rate > cfg.max_repeat + 1e-9:
            raise ConfigError(f"group '{g}' has {available[g]} tokens; {share:.1%} of {total} needs {rate:.2f}x repetition",
                              field="max_repeat", hint=f"raise max_repeat to {rate:.2f} or lower total_tokens")
        rates[g] = rate
    return rates, total


def shard_order(seed: int, shard: int, n: int) -> np.ndarray:
    """A permutation of a shard's n documents fixed by (seed, shard)."""
    from oshie.data.minhash import mix

    offset = (shard * 0x9E3779B97F4A7C15 + seed * 0xD1B54A32D192ED03) & 0xFFFFFFFFFFFFFFFF
    return np.argsort(mix(np.arange(n, dtype=np.uint64) + np.uint64(offset)), kind="stable")


def copies_per_doc(groups: list[str], tokens: list[int], rates: dict[str, float], seed: int, shard: int) -> list[int]:
    """How many times each document of a shard is written: floor(rate) for all of its group,
    plus one for documents taken, in the seeded order, until the group's fractional share of
    this shard's tokens is reached (exact to one document per shard and group, unlike coin flips)."""
    copies = [int(rates.get(g, 0.0)) for g in groups]
    quota: dict[str, float] = {}
    for g, n in zip(groups, tokens, strict=True):
        rate = rates.get(g, 0.0)
        quota[g] = quota.get(g, 0.0) + (rate - int(rate)) * n
    taken: dict[str, float] = {}
    for i in shard_order(seed, shard, len(groups)).tolist():
        g = groups[i]
        if taken.get(g, 0.0) + tokens[i] / 2 <= quota[g]:
            taken[g] = taken.get(g, 0.0) + tokens[i]
            copies[i] += 1
    return copies


def sample_shard(task: dict[str, Any]) -> dict[str, Any]:
    """Phase 3: write each document as many times as its group's rate and its number say."""
    cfg = MixConfig.model_validate(task["config"])
    rates: dict[str, float] = task["rates"]
    name = part_name(task["index"])
    facts = json.loads((Path(task["work"]) / f"{name}.json").read_text())
    groups, tokens = facts["groups"], facts["tokens"]
    plan = copies_per_doc(groups, tokens, rates, cfg.seed, task["index"])
    pos, repeats = 0, 0
    achieved: dict[str, int] = {}

    def split(docs: list[Document]) -> tuple[list[Document], list[Document]]:
        nonlocal pos, repeats
        kept: list[Document] = []
        rejected: list[Document] = []
        for d in docs:
            rate, copies = rates.get(groups[pos], 0.0), plan[pos]
            if copies:
                kept += [d if k == 0 else {**d, "id": f"{d['id']}#{k}"} for k in range(copies)]
                achieved[groups[pos]] = achieved.get(groups[pos], 0) + copies * tokens[pos]
                repeats += copies - 1
            else:
                rejected.append({**d, "reason": f"not sampled (group {groups[pos]}, rate {rate:.3f})"})
            pos += 1
        return kept, rejected

    counts = split_shard(task, split, 2048)
    # kept counts each document once; its extra copies are `repeats`
    result = {**counts, "kept": counts["kept"] - repeats, "repeats": repeats, "tokens": achieved}
    mark_done(Path(task["out_dir"]), task["index"], result)
    return result


def run_mix(inputs: list[Path], out_dir: Path, cfg: MixConfig, *, text_field: str = "text",
            source: str | None = None, fmt: str = "parquet", opts: EngineOptions | None = None) -> StepResult:
    opts = opts or EngineOptions()
    shards = prepare(inputs, out_dir, text_field=text_field, fmt=fmt)
    work = out_dir / "work"
    config = cfg.model_dump(mode="json")
    common = {"work": str(work), "config": config, "text_field": text_field, "source": source}
    counted = map_tasks(count_shard, [{"index": i, "path": str(p), **common} for i, p in enumerate(shards)],
                        engine=opts.engine, workers=opts.workers, ray_address=opts.ray_address, description="mix: count")
    available: dict[str, int] = {}
    docs_in: dict[str, int] = {}
    for c in counted:
        for g, (n_docs, n_tok) in c["groups"].items():
            available[g] = available.get(g, 0) + n_tok
            docs_in[g] = docs_in.get(g, 0) + n_docs
    rates, total = rates_for(available, cfg)

    def summarise(stats: list[dict[str, Any]]) -> dict[str, Any]:
        got: dict[str, int] = {}
        for s in stats:
            for g, n in s["tokens"].items():
                got[g] = got.get(g, 0) + n
        all_tokens = sum(got.values()) or 1
        report = {g: {"requested": round(cfg.targets.get(g, 0.0), 4), "achieved": round(got.get(g, 0) / all_tokens, 4),
                      "tokens": got.get(g, 0), "available_tokens": available.get(g, 0), "documents": docs_in.get(g, 0),
                      "rate": round(rates.get(g, 0.0), 4)} for g in sorted(set(available) | set(cfg.targets))}
        return {"mix": {"by": cfg.by, "tokenizer": cfg.tokenizer, "total_tokens_requested": total,
                        "total_tokens": sum(got.values()), "repeats": sum(s.get("repeats", 0) for s in stats),
                        "groups": report}}

    return run_step("corpus-mix", sample_shard, shards, out_dir,
                    config={"mix": config, "text_field": text_field, "source": source, "format": fmt},
                    task_extra={**common, "rates": rates, "format": fmt}, opts=opts, description="mix: sample",
                    summarise=summarise)
