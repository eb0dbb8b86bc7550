"""Near-duplicate detection: oshie.data.dedup against datasketch's MinHashLSH.

Run by hand (needs the `bench` extra: pip install -c constraints.txt datasketch):

    .venv/bin/python bench/dedup.py            # 100k records, 1000 planted pairs per edit count
    .venv/bin/python bench/dedup.py --n 20000  # quicker

Records are built from phrases of the shipped Japanese sample corpus, so unrelated records
share common phrases as real data does. Planted near-duplicates copy a record and edit 1, 2
or 3 characters (substitute, insert or delete). Both tools see the same texts and the same
character 5-gram shingles; wall time includes shingling. Recall is the share of planted
(original, copy) pairs a tool reports.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from importlib import resources

import numpy as np

from oshie.data.dedup import DedupConfig, find_duplicates


def phrases() -> list[str]:
    text = resources.files("oshie").joinpath("resources/corpus/ja_sample.txt").read_text("utf-8")
    parts = re.split(r"(?<=[、。！？])", text.replace("\n", ""))
    return [p for p in parts if len(p) >= 4]


def make_records(n: int, per_edit: int, seed: int) -> tuple[list[str], list[tuple[int, int, int]]]:
    rng = random.Random(seed)
    pool = phrases()
    alphabet = sorted(set("".join(pool)))
    texts: list[str] = []
    seen: set[str] = set()
    while len(texts) < n:
        t = "".join(rng.choices(pool, k=rng.randint(6, 18)))
        if t not in seen:
            seen.add(t)
            texts.append(t)
    planted = []
    bases = rng.sample(range(n), 3 * per_edit)
    for k, base in enumerate(bases):
        edits = 1 + k // per_edit
        chars = list(texts[base])
        for _ in range(edits):
            p = rng.randrange(len(chars))
            op = rng.choice("sid")
            if op == "s":
                chars[p] = rng.choice(alphabet)
            elif op == "i":
                chars.insert(p, rng.choice(alphabet))
            else:
                del chars[p]
        texts.append("".join(chars))
        planted.append((base, len(texts) - 1, edits))
    return texts, planted


def shingle_set(text: str, n: int = 5) -> set[str]:
    return {text[i : i + n] for i in range(max(len(text) - n + 1, 1))}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingle_set(a), shingle_set(b)
    return len(sa & sb) / len(sa | sb)


def run_datasketch(texts: list[str]) -> tuple[set[tuple[int, int]], float]:
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    hashes = []
    for i, t in enumerate(texts):
        m = MinHash(num_perm=128)
        m.update_batch([s.encode("utf-8") for s in shingle_set(t)])
        lsh.insert(i, m)
        hashes.append(m)
    pairs = set()
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return pairs, time.perf_counter() - t0


def run_oshie(texts: list[str], config: DedupConfig) -> tuple[set[tuple[int, int]], float, int]:
    t0 = time.perf_counter()
    result = find_duplicates(texts, config)
    elapsed = time.perf_counter() - t0
    same_cluster = set()
    for c in result.clusters:
        for a in c.members:
            for b in c.members:
                if a < b:
                    same_cluster.add((a, b))
    return same_cluster, elapsed, result.n_candidates


def recall_by_edits(pairs: set[tuple[int, int]], planted: list[tuple[int, int, int]]) -> dict[int, float]:
    out = {}
    for e in (1, 2, 3):
        group = [(a, b) for a, b, k in planted if k == e]
        out[e] = sum((a, b) in pairs for a, b in group) / len(group)
    out[0] = sum((a, b) in pairs for a, b, _ in planted) / len(planted)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="base records")
    ap.add_argument("--per-edit", type=int, default=1000, help="planted pairs per edit count (1, 2, 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=DedupConfig().threshold, help="oshie's verified Jaccard threshold")
    ap.add_argument("--skip-datasketch", action="store_true")
    args = ap.parse_args()

    texts, planted = make_records(args.n, args.per_edit, args.seed)
    sims = np.array([jaccard(texts[a], texts[b]) for a, b, _ in planted])
    print(f"{len(texts)} records, {len(planted)} planted pairs; mean length {np.mean([len(t) for t in texts]):.0f} chars")
    import os

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for e in (1, 2, 3):
        s = sims[[k == e for _, _, k in planted]]
        print(f"  {e}-edit pairs: exact 5-gram Jaccard median {np.median(s):.3f}, min {s.min():.3f}, "
              f"share >= 0.8: {np.mean(s >= 0.8):.2f}")

    planted_set = {(a, b) for a, b, _ in planted}
    # warm both tools up on a small slice (imports, first-touch allocations) before timing
    run_oshie(texts[:3000], DedupConfig())
    if not args.skip_datasketch:
        run_datasketch(texts[:300])
    # same shingles as datasketch (raw text); then the default comparison form (NFKC, no spaces)
    runs = []
    for label, cfg in [("oshie (raw text)", DedupConfig(threshold=args.threshold, normalize=False)),
                       ("oshie (default) ", DedupConfig(threshold=args.threshold))]:
        ours, t_ours, n_cand = run_oshie(texts, cfg)
        r_ours = recall_by_edits(ours, planted)
        extra = len(ours - planted_set)
        runs.append((t_ours, r_ours))
        print(f"{label} num_perm={cfg.num_perm} bands={cfg.bands} threshold={cfg.threshold}: "
              f"{t_ours:6.2f} s  recall {r_ours[0]:.3f} (1-edit {r_ours[1]:.3f}, 2-edit {r_ours[2]:.3f}, "
              f"3-edit {r_ours[3]:.3f})  pairs {len(ours)} (not planted: {extra}), candidates {n_cand}")
    t_ours, r_ours = runs[0]
    if args.skip_datasketch:
        return
    theirs, t_theirs = run_datasketch(texts)
    r_theirs = recall_by_edits(theirs, planted)
    extra_t = len(theirs - planted_set)
    print(f"datasketch MinHashLSH(threshold=0.8, num_perm=128): "
          f"{t_theirs:6.2f} s  recall {r_theirs[0]:.3f} (1-edit {r_theirs[1]:.3f}, 2-edit {r_theirs[2]:.3f}, "
          f"3-edit {r_theirs[3]:.3f})  pairs {len(theirs)} (not planted: {extra_t})")
    print(f"\nspeed-up (same shingles): {t_theirs / t_ours:.1f}x   recall: {r_ours[0]:.3f} vs {r_theirs[0]:.3f} "
          f"(3-edit {r_ours[3]:.3f} vs {r_theirs[3]:.3f})")


if __name__ == "__main__":
    main()
