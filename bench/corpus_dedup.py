"""Corpus dedup at scale: planted near-duplicates, recall, docs/s per core beside rensa and
datasketch, and peak memory at two corpus sizes.

    python bench/corpus_dedup.py --sizes 100000 1000000

For each size a child process writes the corpus (short generated Japanese documents, 10% of
them copies of another document with 1-3 character edits, placed in a different shard) and
another child runs `oshie corpus dedup` on one core (`--workers 1`), so its peak RSS is the
dedup's alone. Recall = planted copies that end in their original's cluster / planted. Originals are
rejected only where their copy was read first (copies of the last shard sit in the first).
Side by side on `--ref-docs` further documents, in CPU seconds (so per core, whatever threads
a library starts): oshie and rensa get the same normalised text; rensa its character 5-grams
as strings, already built and not timed (compared on its second pass over them, its best
case: the first, also printed, converts each string to UTF-8 and caches that in it), oshie
the text, which it cuts into 5-grams itself.
Signatures alone, then with LSH (oshie's band keys, rensa's `insert_matrix`); datasketch on
the first 5,000. Needs the bench extra (rensa, datasketch).

    python bench/corpus_dedup.py --sizes --ref-docs 1000000   # the side-by-side rates alone
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
from collections.abc import Callable
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


def references(n: int, chunk: int = 50_000) -> dict:
    """docs/s per core (documents / process CPU seconds, so a library that runs several threads
    is charged for all of them) on the same documents, `chunk` at a time so memory stays flat;
    in each chunk every contestant runs once, one after the other, so load from other work on
    the machine falls on all of them alike."""
    from datasketch import MinHash, MinHashLSH
    from rensa import RMinHash, RMinHashLSH

    from oshie.corpus.dedup import CorpusDedupConfig, batch_keys
    from oshie.data.minhash import band_keys, code_points, signatures_of_codes
    from oshie.ja.normalize import compact

    cfg = CorpusDedupConfig()
    bands = cfg.chosen_bands()
    cpu: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., object], *args: object) -> None:
        t0 = time.process_time()
        fn(*args)
        cpu[name] = cpu.get(name, 0.0) + time.process_time() - t0

    def oshie_signatures(texts: list[str], keys: bool) -> None:
        for s in range(0, len(texts), cfg.batch_size):  # the batch size corpus dedup hashes at
            codes, lengths = code_points(texts[s : s + cfg.batch_size], False)
            sig = signatures_of_codes(codes, lengths, cfg.ngram, cfg.num_perm, cfg.seed)
            if keys:
                band_keys(sig, bands)

    def rensa_digests(shingles: list[list[str]], lsh: bool) -> None:
        matrix = RMinHash.digest_matrix_from_token_sets(shingles, num_perm=cfg.num_perm, seed=cfg.seed)
        if lsh:
            RMinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm, num_bands=bands).insert_matrix(matrix)

    def oshie_whole(texts: list[str]) -> None:
        for s in range(0, len(texts), cfg.batch_size):
            batch_keys(texts[s : s + cfg.batch_size], cfg)

    warm = make_docs(2000, seed=2)[0]
    warm_sh = [[c[i : i + 5] for i in range(max(len(c) - 4, 1))] for c in map(compact, warm)]
    rensa_digests(warm_sh, True)
    oshie_signatures(warm, True)
    ds_docs = 0
    for start in range(0, n, chunk):
        docs, _ = make_docs(min(chunk, n - start), seed=1 + start)
        normalised = [compact(d) for d in docs]  # both sides get the same normalised text ...
        shingles = [[c[i : i + 5] for i in range(max(len(c) - 4, 1))] for c in normalised]  # ... and 5-grams
        # rensa's first pass over fresh strings (as in a pipeline) also converts each to UTF-8 and
        # caches that in the string; its second pass is its best case, the one compared against
        timed("rensa_first", rensa_digests, shingles, False)
        timed("rensa_sig", rensa_digests, shingles, False)
        timed("oshie_sig", oshie_signatures, normalised, False)
        timed("rensa_lsh", rensa_digests, shingles, True)
        timed("oshie_lsh", oshie_signatures, normalised, True)
        timed("oshie_whole", oshie_whole, docs)
        if ds_docs < 5000:
            m = min(5000 - ds_docs, len(shingles))
            t0 = time.process_time()
            lsh = MinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm)
            for i, sh in enumerate(shingles[:m]):
                mh = MinHash(num_perm=cfg.num_perm, seed=cfg.seed)
                mh.update_batch([x.encode() for x in sh])
                lsh.insert(str(i), mh)
            cpu["datasketch_lsh"] = cpu.get("datasketch_lsh", 0.0) + time.process_time() - t0
            ds_docs += m
    rate = {k: (ds_docs if k.startswith("datasketch") else n) / v for k, v in cpu.items()}
    return {"docs": n, "datasketch_docs": ds_docs, "bands": bands, "rate": rate}


def print_references(r: dict) -> None:
    rate = r["rate"]
    print(f"MinHash docs/s per core (documents / CPU seconds), {r['docs']:,} short documents, "
          f"128 permutations, the same normalised text and character 5-grams for everyone:")
    rows = [
        ("signatures", "oshie_sig", "rensa_sig", "oshie: text -> shingle hashes -> signatures; "
         "rensa: 5-gram strings -> digest matrix"),
        (f"signatures + LSH ({r['bands']} bands)", "oshie_lsh", "rensa_lsh",
         "oshie: + band keys; rensa: + insert_matrix"),
    ]
    for what, ours, theirs, note in rows:
        print(f"  {what:30} oshie {rate[ours]:>10,.0f}   rensa {rate[theirs]:>10,.0f}   "
              f"ratio {rate[ours] / rate[theirs]:.2f}x   ({note})")
    print(f"  {'(rensa on fresh strings)':30} {'':16} rensa {rate['rensa_first']:>10,.0f}   "
          f"ratio {rate['oshie_sig'] / rate['rensa_first']:.2f}x   (its first pass: each string converted to UTF-8 too)")
    print(f"  {'corpus dedup hashing':30} oshie {rate['oshie_whole']:>10,.0f}   "
          f"(raw text: NFKC folding, exact hashes, signatures, band keys; "
          f"{rate['oshie_whole'] / rate['rensa_lsh']:.2f}x rensa with LSH)")
    print(f"  {'datasketch':30} {rate['datasketch_lsh']:>16,.0f}   (MinHash + LSH insert, first "
          f"{r['datasketch_docs']:,} documents; oshie {rate['oshie_lsh'] / rate['datasketch_lsh']:.0f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000],
                    help="corpus sizes for the whole pipeline (none: only the side-by-side rates)")
    ap.add_argument("--ref-docs", type=int, default=50_000,
                    help="documents for the side-by-side MinHash rates (0: skip them)")
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
    if args.ref_docs:
        refs = subprocess.run([*me, "--child", "refs", "--n", str(args.ref_docs)], check=True,
                              capture_output=True, text=True).stdout
        print_references(json.loads(refs))
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
