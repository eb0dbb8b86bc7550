"""Corpus dedup at scale: planted near-duplicates, recall, docs/s per core beside rensa and
datasketch, and peak memory at two corpus sizes.

    python bench/corpus_dedup.py --sizes 100000 1000000

For each size a child process writes the corpus (short generated Japanese documents, 10% of
them copies of another document with 1-3 character edits, placed in a different shard) and
another child runs `oshie corpus dedup` on one core (`--workers 1`), so its peak RSS is the
dedup's alone. Recall = planted copies that end in their original's cluster / planted. Originals are
rejected only where their copy was read first (copies of the last shard sit in the first).
The reference libraries get the same character 5-gram shingles of the same normalised text
(already built; their time is MinHash + LSH insert only) on a sample of `--ref-docs`.
Needs the bench extra (rensa, datasketch).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"


def make_docs(n: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """n short documents; copy_of[i] = the original of a planted copy, or -1."""
    from oshie.corpus.synthetic import sample_sentences

    rnd = random.Random(seed)
    sents = sample_sentences()
    n_orig = n - n // 10
    docs = []
    for _ in range(n_orig):
        chars = list("".join(rnd.choice(sents) for _ in range(5)))
        for _ in range(20):  # enough private noise that unrelated documents stay far apart
            chars[rnd.randrange(len(chars))] = rnd.choice(KANA)
        docs.append("".join(chars))
    copy_of = [-1] * n_orig
    for _ in range(n - n_orig):
        src = rnd.randrange(n_orig)
        chars = list(docs[src])
        for _ in range(rnd.randint(1, 3)):
            i = rnd.randrange(len(chars))
            op = rnd.random()
            if op < 0.4:
                chars[i] = rnd.choice(KANA)
            elif op < 0.7:
                chars.insert(i, rnd.choice(KANA))
            else:
                del chars[i]
        docs.append("".join(chars))
        copy_of.append(src)
    return docs, copy_of


def write_corpus(n: int, root: Path, shards: int = 16) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    docs, copy_of = make_docs(n)
    n_orig = sum(1 for c in copy_of if c < 0)
    # originals go to shards in order; copies to the shard after their original's (the last
    # shard's copies go to the first shard, so there the copy is read first and kept)
    per = (n_orig + shards - 1) // shards
    rows: list[list[dict]] = [[] for _ in range(shards)]
    for i in range(n_orig):
        rows[i // per].append({"id": f"d{i}", "text": docs[i]})
    for j in range(n_orig, n):
        s = (copy_of[j] // per + 1) % shards
        rows[s].append({"id": f"c{j}-of-d{copy_of[j]}", "text": docs[j]})
    root.mkdir(parents=True, exist_ok=True)
    for s, r in enumerate(rows):
        pq.write_table(pa.Table.from_pylist(r), root / f"shard-{s:03d}.parquet")


def planted_recall(root: Path, out: Path) -> tuple[float, int]:
    """(share of planted copies that ended in their original's cluster, originals rejected)."""
    import pyarrow.parquet as pq

    rejected = pq.read_table(out / "rejected", columns=["id", "reason"]).to_pylist()
    rep = {r["id"]: r["reason"].split(" ")[2] for r in rejected}  # "duplicate of <id> (...)"

    def cluster(doc_id: str) -> str:
        return rep.get(doc_id, doc_id)

    copies = [i for p in sorted(root.glob("*.parquet")) for i in pq.read_table(p, columns=["id"]).column("id").to_pylist()
              if i.startswith("c")]
    found = sum(1 for c in copies if cluster(c) == cluster(c.split("-of-")[1]))
    return found / len(copies), sum(1 for r in rejected if r["id"].startswith("d"))


def run_dedup(root: Path, out: Path) -> dict:
    from oshie.corpus.dedup import CorpusDedupConfig
    from oshie.corpus.dedup import run_dedup as dedup
    from oshie.corpus.run import EngineOptions

    t0 = time.perf_counter()
    result = dedup([root], out, CorpusDedupConfig(), opts=EngineOptions(workers=1))
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    recall, originals = planted_recall(root, out)
    return {"docs": result.totals["in"], "seconds": seconds, "docs_per_s": result.totals["in"] / seconds,
            "recall": recall, "originals_rejected": originals, "peak_rss_mb": peak, **result.extra["dedup"]}


def references(n: int) -> dict:
    from oshie.corpus.dedup import CorpusDedupConfig, batch_keys
    from oshie.ja.normalize import compact

    docs, _ = make_docs(n, seed=1)
    cfg = CorpusDedupConfig()
    out = {}
    t0 = time.perf_counter()
    batch_keys(docs, cfg)
    out["oshie (text -> signatures + band keys)"] = n / (time.perf_counter() - t0)
    shingles = [[c[i : i + 5] for i in range(max(len(c) - 4, 1))] for c in map(compact, docs)]
    from rensa import RMinHash, RMinHashLSH

    t0 = time.perf_counter()
    matrix = RMinHash.digest_matrix_from_token_sets(shingles, num_perm=128, seed=1)
    RMinHashLSH(threshold=0.7, num_perm=128, num_bands=32).insert_matrix(matrix)
    out["rensa (shingles -> bulk digests + LSH insert)"] = n / (time.perf_counter() - t0)
    from datasketch import MinHash, MinHashLSH

    m = min(n, 5000)
    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    for i, s in enumerate(shingles[:m]):
        mh = MinHash(num_perm=128, seed=1)
        mh.update_batch([x.encode() for x in s])
        lsh.insert(str(i), mh)
    out[f"datasketch (shingles -> MinHash + LSH insert, {m} docs)"] = m / (time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--ref-docs", type=int, default=50_000)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--child", choices=["write", "dedup", "refs"], help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "write":
        write_corpus(args.n, args.workdir / "in")
        return
    if args.child == "dedup":
        print(json.dumps(run_dedup(args.workdir / "in", args.workdir / "out")))
        return
    if args.child == "refs":
        print(json.dumps(references(args.n)))
        return
    base = args.workdir or Path(tempfile.mkdtemp(prefix="oshie-dedup-bench-"))
    me = [sys.executable, __file__]
    refs = json.loads(subprocess.run([*me, "--child", "refs", "--n", str(args.ref_docs)], check=True,
                                     capture_output=True, text=True).stdout)
    print(f"MinHash docs/s per core on the same {args.ref_docs} short documents (128 permutations):")
    for name, rate in refs.items():
        print(f"  {name:58} {rate:>10,.0f}")
    for n in args.sizes:
        work = base / str(n)
        subprocess.run([*me, "--child", "write", "--n", str(n), "--workdir", str(work)], check=True)
        r = json.loads(subprocess.run([*me, "--child", "dedup", "--n", str(n), "--workdir", str(work)], check=True,
                                      capture_output=True, text=True).stdout)
        print(f"{n:>9,} docs: oshie corpus dedup (whole pipeline, 1 worker) {r['docs_per_s']:,.0f} docs/s, "
              f"{r['seconds']:.0f} s; recall on planted copies {r['recall']:.4f}; originals rejected {r['originals_rejected']}; "
              f"peak RSS {r['peak_rss_mb']:,.0f} MB; bands {r['bands']}x{r['rows']}, candidates {r['candidates']:,}")


if __name__ == "__main__":
    main()
