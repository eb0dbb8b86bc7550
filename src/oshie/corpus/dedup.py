"""`oshie corpus dedup`: exact and near-duplicate removal across every shard and source, in
bounded memory, with the MinHash of `oshie.data.minhash` (the same code the audit uses).

Four phases, each a map over files, so memory stays bounded as the corpus grows:

1. per input shard: normalised exact hashes, MinHash signatures (to `sig/`, uint32 rows)
   and LSH band keys, written to `P` disk partitions by key (`buckets/`, `exact/`);
2. per partition: equal keys are candidate pairs (each bucket member paired with the
   bucket's first member and its neighbour, as in the audit), verified by signature
   agreement (an unbiased Jaccard estimate) >= threshold; exact-hash groups need no check;
3. in the driver: verified pairs joined into clusters (union-find over duplicates only);
   the representative is the member read first (shard order, then file order), so every
   engine keeps the same one; a cluster report is written;
4. per input shard: documents kept, or rejected with "duplicate of <id>".

Bands and rows are chosen for the threshold (`bands_for`) unless given.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from oshie.corpus.engine import map_tasks
from oshie.corpus.run import EngineOptions, StepResult, prepare, run_step
from oshie.corpus.shards import mark_done, part_name, split_shard
from oshie.corpus.streams import Document, batches, read_shard
from oshie.data.minhash import (
    band_keys,
    bands_for,
    code_points,
    mix,
    mix_inplace,
    signatures_of_codes,
)
from oshie.jsonl import JsonlWriter

_POS_BITS = 40  # gid = shard << 40 | position: a trillion documents per shard, a million shards
_BAND_SALT = np.uint64(0x9E3779B97F4A7C15)


class CorpusDedupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ngram: int = Field(5, ge=1, description="characters per shingle")
    num_perm: int = Field(128, ge=8, description="MinHash signature length")
    bands: int | None = Field(None, description="LSH bands (a divisor of num_perm); default: chosen for the threshold")
    threshold: float = Field(0.7, gt=0, le=1, description="estimated Jaccard at or above which documents are near-duplicates")
    normalize: bool = Field(True, description="compare NFKC, lower-cased text without whitespace")
    exact: bool = Field(True, description="also group documents whose normalised text is identical")
    near: bool = Field(True, description="MinHash LSH near-duplicates")
    seed: int = 1
    partitions: int = Field(16, ge=1, description="disk partitions of the band keys (memory per partition = total / partitions)")
    batch_size: int = Field(20000, ge=1, description="documents hashed at once")

    def chosen_bands(self) -> int:
        bands = self.bands or bands_for(self.threshold, self.num_perm)
        if self.num_perm % bands:
            from oshie.errors import ConfigError

            raise ConfigError(f"num_perm ({self.num_perm}) must be a multiple of bands ({bands})", field="bands")
        return bands


def exact_hashes(codes: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each text's code points: a sum of position-mixed characters, so equal
    texts always agree and different ones collide with probability about 2^-64."""
    n = len(lengths)
    out = np.zeros(n, dtype=np.uint64)
    if not len(codes):
        return mix(out + lengths.astype(np.uint64))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    terms = codes.astype(np.uint64)
    terms *= _BAND_SALT
    terms += np.arange(len(codes), dtype=np.uint64)
    terms -= np.repeat(starts.astype(np.uint64), lengths)  # + the position inside its text
    live = lengths > 0
    out[live] = np.add.reduceat(mix_inplace(terms), starts[live])
    return mix(out + lengths.astype(np.uint64) * np.uint64(0x94D049BB133111EB))


def batch_keys(texts: list[str], cfg: CorpusDedupConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(exact hashes, signatures as uint32 rows, band keys salted by band) of a batch: pure."""
    codes, lengths = code_points(texts, cfg.normalize)
    exact = exact_hashes(codes, lengths)
    sig = signatures_of_codes(codes, lengths, cfg.ngram, cfg.num_perm, cfg.seed)
    bands = cfg.chosen_bands()
    keys = mix(band_keys(sig, bands) + np.arange(bands, dtype=np.uint64)[None, :] * _BAND_SALT)
    keys[(sig == np.iinfo(np.uint64).max).all(axis=1)] = 0  # empty documents match nothing
    return exact, (sig & np.uint64(0xFFFFFFFF)).astype(np.uint32), keys


class _PartitionFiles:
    """Raw (key, gid) uint64 pairs appended to one file per partition, renamed when complete."""

    def __init__(self, root: Path, shard: int, partitions: int) -> None:
        self.final = [root / f"p{p:04d}" / f"{part_name(shard)}.bin" for p in range(partitions)]
        for f in self.final:
            f.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = [f.with_name(f".{f.name}.tmp") for f in self.final]
        self.fh = [open(t, "wb") for t in self.tmp]
        self.partitions = partitions

    def add(self, keys: np.ndarray, gids: np.ndarray) -> None:
        live = keys != 0
        keys, gids = keys[live], gids[live]
        part = (keys >> np.uint64(40)) % np.uint64(self.partitions)
        for p in np.unique(part).tolist():
            sel = part == p
            np.stack([keys[sel], gids[sel]], axis=1).tofile(self.fh[p])

    def close(self) -> None:
        for fh, tmp, final in zip(self.fh, self.tmp, self.final, strict=True):
            fh.close()
            tmp.replace(final)


def hash_shard(task: dict[str, Any]) -> dict[str, Any]:
    """Phase 1 for one input shard."""
    cfg = CorpusDedupConfig.model_validate(task["config"])
    work, shard = Path(task["work"]), task["index"]
    buckets = _PartitionFiles(work / "buckets", shard, cfg.partitions)
    exact = _PartitionFiles(work / "exact", shard, cfg.partitions)
    (work / "sig").mkdir(parents=True, exist_ok=True)
    sig_path = work / "sig" / f"{part_name(shard)}.u32"
    sig_tmp = sig_path.with_name(f".{sig_path.name}.tmp")
    ids: list[str] = []
    hashes: list[np.ndarray] = []
    with open(sig_tmp, "wb") as sig_fh:
        docs_iter = read_shard(task["path"], source=task.get("source"), text_field=task["text_field"])
        for docs, _bad in batches(docs_iter, cfg.batch_size):
            if not docs:
                continue
            gids = (np.uint64(shard) << np.uint64(_POS_BITS)) + np.arange(len(ids), len(ids) + len(docs), dtype=np.uint64)
            ids += [d["id"] for d in docs]
            ex, sig, keys = batch_keys([d["text"] for d in docs], cfg)
            sig.tofile(sig_fh)
            hashes.append(ex)
            if cfg.exact:
                exact.add(mix(ex + np.uint64(1)), gids)
            if cfg.near:
                buckets.add(keys.reshape(-1), np.repeat(gids, keys.shape[1]))
    sig_tmp.replace(sig_path)
    buckets.close()
    exact.close()
    import pyarrow as pa
    import pyarrow.parquet as pq

    ex_all = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    pq.write_table(pa.table({"id": ids, "exact": ex_all}), work / "sig" / f"{part_name(shard)}.ids.parquet")
    return {"index": shard, "docs": len(ids)}


def _load(folder: Path) -> np.ndarray:
    parts = [np.fromfile(f, dtype=np.uint64).reshape(-1, 2) for f in sorted(folder.glob("*.bin"))]
    return np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.uint64)


def _bucket_pairs(entries: np.ndarray) -> np.ndarray:
    """Pairs (first member, member) and (neighbour, member) within runs of equal keys."""
    if not len(entries):
        return np.zeros((0, 2), dtype=np.uint64)
    order = np.lexsort((entries[:, 1], entries[:, 0]))
    keys, gids = entries[order, 0], entries[order, 1]
    same = keys[1:] == keys[:-1]
    if not same.any():
        return np.zeros((0, 2), dtype=np.uint64)
    run_start = np.flatnonzero(np.concatenate(([True], ~same)))
    first = np.repeat(gids[run_start], np.diff(np.append(run_start, len(gids))))
    pairs = np.concatenate([np.stack([first, gids], axis=1), np.stack([gids[:-1][same], gids[1:][same]], axis=1)])
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs.sort(axis=1)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    fresh = np.ones(len(pairs), dtype=bool)
    fresh[1:] = (pairs[1:] != pairs[:-1]).any(axis=1)
    return pairs[fresh]


class _Signatures:
    """Signature rows of any documents, read from the per-shard files through memory maps."""

    def __init__(self, work: Path, num_perm: int) -> None:
        self.work, self.num_perm = work, num_perm
        self.maps: dict[int, np.ndarray] = {}

    def rows(self, gids: np.ndarray) -> np.ndarray:
        out = np.empty((len(gids), self.num_perm), dtype=np.uint32)
        shards = (gids >> np.uint64(_POS_BITS)).astype(np.int64)
        pos = (gids & np.uint64((1 << _POS_BITS) - 1)).astype(np.int64)
        for s in np.unique(shards).tolist():
            if s not in self.maps:
                self.maps[s] = np.memmap(self.work / "sig" / f"{part_name(s)}.u32", dtype=np.uint32, mode="r").reshape(-1, self.num_perm)
            sel = shards == s
            out[sel] = self.maps[s][pos[sel]]
        return out


def pair_partition(task: dict[str, Any]) -> dict[str, Any]:
    """Phase 2 for one partition: verified edges (a, b) and their similarity to `edges/`."""
    cfg = CorpusDedupConfig.model_validate(task["config"])
    work, p = Path(task["work"]), task["index"]
    exact_pairs = _bucket_pairs(_load(work / "exact" / f"p{p:04d}"))
    cand = _bucket_pairs(_load(work / "buckets" / f"p{p:04d}"))
    n_cand = len(cand)
    sims = np.zeros(0, dtype=np.float32)
    if len(cand):
        sigs = _Signatures(work, cfg.num_perm)
        keep, sims_all = np.zeros(len(cand), dtype=bool), np.zeros(len(cand), dtype=np.float32)
        for s in range(0, len(cand), 65536):
            block = cand[s : s + 65536]
            agree = (sigs.rows(block[:, 0]) == sigs.rows(block[:, 1])).mean(axis=1)
            keep[s : s + 65536] = agree >= cfg.threshold
            sims_all[s : s + 65536] = agree
        cand, sims = cand[keep], sims_all[keep]
    edges = np.concatenate([exact_pairs, cand]) if len(exact_pairs) or len(cand) else np.zeros((0, 2), dtype=np.uint64)
    sim = np.concatenate([np.ones(len(exact_pairs), dtype=np.float32), sims])
    (work / "edges").mkdir(parents=True, exist_ok=True)
    tmp = work / "edges" / f".p{p:04d}.npz.tmp"
    with open(tmp, "wb") as fh:
        np.savez(fh, edges=edges, sim=sim)
    tmp.replace(work / "edges" / f"p{p:04d}.npz")
    return {"index": p, "candidates": int(n_cand), "exact_pairs": len(exact_pairs), "near_pairs": len(cand)}


def unique_edges(edges: np.ndarray, sim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One row per pair (a pair sharing several bands is verified in several partitions)."""
    if not len(edges):
        return edges, sim
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    edges, sim = edges[order], sim[order]
    fresh = np.ones(len(edges), dtype=bool)
    fresh[1:] = (edges[1:] != edges[:-1]).any(axis=1)
    return edges[fresh], sim[fresh]


def clusters_from_edges(edges: np.ndarray, sim: np.ndarray) -> dict[int, dict[str, Any]]:
    """root gid (the smallest member) -> {members, min_similarity}; only duplicates appear."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:
            parent[x], x = root, parent.get(x, x)
        return root

    order = np.lexsort((edges[:, 1], edges[:, 0])) if len(edges) else np.zeros(0, dtype=np.int64)
    for a, b in edges[order].tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    out: dict[int, dict[str, Any]] = {}
    for x in list(parent):
        r = find(x)
        c = out.setdefault(r, {"members": {r}, "min_similarity": 1.0})
        c["members"].add(x)
    for (a, _b), s in zip(edges.tolist(), sim.tolist(), strict=True):
        c = out[find(a)]
        c["min_similarity"] = min(c["min_similarity"], s)
    return out


def write_shard(task: dict[str, Any]) -> dict[str, Any]:
    """Phase 4 for one input shard: kept documents, and duplicates rejected with their representative."""
    name = part_name(task["index"])
    drops = json.loads((Path(task["work"]) / "drop" / f"{name}.json").read_text("utf-8"))
    pos = 0

    def split(docs: list[Document]) -> tuple[list[Document], list[Document]]:
        nonlocal pos
        kept: list[Document] = []
        rejected: list[Document] = []
        for d in docs:
            reason = drops.get(str(pos))
            pos += 1
            (rejected.append({**d, "reason": reason}) if reason else kept.append(d))
        return kept, rejected

    result = split_shard(task, split, 4096)
    mark_done(Path(task["out_dir"]), task["index"], result)
    return result


def _ids(work: Path, shard: int) -> tuple[list[str], np.ndarray]:
    import pyarrow.parquet as pq

    t = pq.read_table(work / "sig" / f"{part_name(shard)}.ids.parquet")
    return t.column("id").to_pylist(), t.column("exact").to_numpy()


def run_dedup(inputs: list[Path], out_dir: Path, cfg: CorpusDedupConfig, *, text_field: str = "text",
              source: str | None = None, fmt: str = "parquet", opts: EngineOptions | None = None) -> StepResult:
    opts = opts or EngineOptions()
    shards = prepare(inputs, out_dir, text_field=text_field, fmt=fmt)
    work = out_dir / "work"
    shutil.rmtree(work, ignore_errors=True)
    config = cfg.model_dump(mode="json")
    common = {"work": str(work), "config": config, "text_field": text_field, "source": source}
    run = dict(engine=opts.engine, workers=opts.workers, ray_address=opts.ray_address)
    hashed = map_tasks(hash_shard, [{"index": i, "path": str(p), **common} for i, p in enumerate(shards)],
                       description="dedup: hash", **run)
    paired = map_tasks(pair_partition, [{"index": p, **common} for p in range(cfg.partitions)],
                       description="dedup: pairs", **run)
    loaded = [np.load(work / "edges" / f"p{p:04d}.npz") for p in range(cfg.partitions)]
    edges, sim = unique_edges(np.concatenate([z["edges"] for z in loaded]).astype(np.uint64),
                              np.concatenate([z["sim"] for z in loaded]))
    clusters = clusters_from_edges(edges, sim)
    ids = {s: _ids(work, s) for s in range(len(shards))} if clusters else {}

    def id_of(gid: int) -> str:
        return ids[gid >> _POS_BITS][0][gid & ((1 << _POS_BITS) - 1)]

    def exact_of(gid: int) -> int:
        return int(ids[gid >> _POS_BITS][1][gid & ((1 << _POS_BITS) - 1)])

    drops: dict[int, dict[str, str]] = {s: {} for s in range(len(shards))}
    (work / "drop").mkdir(parents=True, exist_ok=True)
    report = out_dir / "clusters.jsonl"
    with JsonlWriter(report) as fh:
        for root in sorted(clusters):
            c = clusters[root]
            members = sorted(c["members"])
            kind = "exact" if len({exact_of(m) for m in members}) == 1 else "near"
            rep = id_of(root)
            fh.write({"representative": rep, "members": [id_of(m) for m in members], "kind": kind,
                                 "min_similarity": round(c["min_similarity"], 4)})
            for m in members[1:]:
                drops[m >> _POS_BITS][str(m & ((1 << _POS_BITS) - 1))] = (
                    f"duplicate of {rep} ({kind}, similarity {c['min_similarity']:.2f})")
    for s, d in drops.items():
        (work / "drop" / f"{part_name(s)}.json").write_text(json.dumps(d), encoding="utf-8")
    summary = {"bands": cfg.chosen_bands(), "rows": cfg.num_perm // cfg.chosen_bands(),
               "clusters": len(clusters), "documents_hashed": sum(h["docs"] for h in hashed),
               "candidates": sum(p["candidates"] for p in paired),
               "pairs": len(edges), "exact_pairs": sum(p["exact_pairs"] for p in paired)}
    return run_step("corpus-dedup", write_shard, shards, out_dir,
                    config={"dedup": config, "text_field": text_field, "source": source, "format": fmt,
                            "edges": hashlib.sha256(edges.tobytes()).hexdigest()[:16]},
                    task_extra={"work": str(work), "text_field": text_field, "source": source, "format": fmt},
                    opts=opts, description="dedup: write", summarise=lambda _stats: {"dedup": summary})
