"""Exact and near-duplicate detection: MinHash LSH over character n-grams, in numpy.

How it works, and why it is fast and has high recall:

1. Shingles are hashed for all texts at once: the texts are concatenated into one array of
   code points and a polynomial rolling hash (then a splitmix64 finaliser) is computed with a
   handful of vector operations, no Python loop per shingle.
2. Signatures use one-permutation hashing (OPH): each shingle hash is computed once and
   falls into one of `num_perm` bins by its low bits; a signature entry is the minimum of its
   bin. Empty bins are filled by rotation densification, which keeps the MinHash collision
   property (P[entry equal] = Jaccard). This costs one hash per shingle instead of `num_perm`.
3. LSH bands of `num_perm // bands` rows are hashed; records sharing a band bucket become
   candidates (each bucket member is paired with the bucket's first member and with its
   neighbour, so a bucket of boilerplate costs linear, not quadratic, work). The defaults
   (96 bins, 24 bands of 4 rows) make a pair a candidate with probability 0.96 at Jaccard
   0.6 and 0.997 at 0.7; wider bands would miss more, narrower ones flood step 4.
4. Candidates are verified on the exact Jaccard of their shingle sets, so the low LSH
   threshold costs time, not precision. Verified pairs are joined into clusters (union-find);
   the first record of a cluster (input order) is its representative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from oshie.data.minhash import (  # noqa: F401 - the shingle/signature names are re-exported
    Shingles,
    band_keys,
    candidate_pairs,
    code_points,
    shingles_of_codes,
    signatures,
)


class DedupConfig(BaseModel):
    """Near-duplicate detection settings (the `dedup` section of a check config)."""

    model_config = ConfigDict(extra="forbid")

    ngram: int = Field(5, ge=1, description="characters per shingle")
    num_perm: int = Field(96, ge=8, description="MinHash signature length (OPH bins)")
    bands: int = Field(24, ge=1, description="LSH bands; rows per band = num_perm / bands")
    threshold: float = Field(0.6, gt=0, le=1, description="exact Jaccard at or above which two records are near-duplicates")
    normalize: bool = Field(True, description="compare NFKC, lower-cased text without whitespace")
    ignore_punctuation: bool = Field(False, description="with normalize, also drop punctuation and brackets")
    fold_variants: bool = Field(False, description="with normalize, unify common spelling variants (下さい/ください, 出来る/できる ...)")
    seed: int = 1

    @model_validator(mode="after")
    def _bands_divide(self) -> DedupConfig:
        if self.num_perm % self.bands:
            raise ValueError(f"num_perm ({self.num_perm}) must be a multiple of bands ({self.bands})")
        return self


@dataclass
class Cluster:
    """Records that are (near-)duplicates of each other; `representative` is kept."""

    representative: int
    members: list[int]  # all indices, representative included, in input order
    kind: str  # "exact" when all members are identical after normalisation, else "near"
    min_similarity: float  # lowest verified Jaccard on the edges that joined the cluster


@dataclass
class DedupResult:
    pairs: list[tuple[int, int, float]] = field(default_factory=list)  # verified (i, j, jaccard)
    clusters: list[Cluster] = field(default_factory=list)
    n_candidates: int = 0

    def duplicates(self) -> set[int]:
        """Indices to drop: every cluster member except its representative."""
        return {m for c in self.clusters for m in c.members if m != c.representative}


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:  # path compression
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the smallest index is the root


# common orthographic variants (表記ゆれ): kanji vs kana spellings of the same auxiliary words
VARIANTS: tuple[tuple[str, str], ...] = (
    ("下さい", "ください"), ("出来", "でき"), ("致し", "いたし"), ("頂き", "いただき"), ("頂け", "いただけ"),
    ("頂く", "いただく"), ("御座い", "ござい"), ("宜しく", "よろしく"), ("事が", "ことが"), ("事は", "ことは"),
    ("事を", "ことを"), ("時に", "ときに"), ("様に", "ように"), ("為に", "ために"), ("又は", "または"),
    ("及び", "および"), ("沢山", "たくさん"), ("所で", "ところで"), ("有る", "ある"), ("無い", "ない"),
)


def fold_variants(text: str) -> str:
    for a, b in VARIANTS:
        if a in text:
            text = text.replace(a, b)
    return text


def find_duplicates(texts: Sequence[str], config: DedupConfig | None = None) -> DedupResult:
    """Exact and near-duplicate clusters among `texts` (indices refer to `texts`)."""
    cfg = config or DedupConfig()
    if cfg.normalize and cfg.fold_variants:
        texts = [fold_variants(t) for t in texts]
    codes, lengths = code_points(texts, cfg.normalize, cfg.ignore_punctuation)
    result = DedupResult()
    uf = _UnionFind()
    edge_sim: dict[int, float] = {}

    # exact duplicates first (same comparison form); copies then sit out the LSH
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    forms = [codes[s : s + n].tobytes() for s, n in zip(starts.tolist(), lengths.tolist(), strict=True)]
    first_of: dict[bytes, int] = {}
    copies = []
    for i, form in enumerate(forms):
        if not form:
            continue
        j = first_of.setdefault(form, i)
        if j != i:
            uf.union(j, i)
            result.pairs.append((j, i, 1.0))
            copies.append(i)

    sh = shingles_of_codes(codes, lengths, cfg.ngram, cfg.seed)
    sig = signatures(sh, cfg.num_perm, skip=np.array(copies, dtype=np.int64))
    cand = candidate_pairs(sig, cfg.bands)
    result.n_candidates = len(cand)
    if len(cand):
        # cheap prefilter on signature agreement (an unbiased Jaccard estimate); the margin is
        # several standard deviations wide, so true pairs are not lost before the exact check.
        # In blocks, so the gathered signature rows stay in cache.
        keep = np.zeros(len(cand), dtype=bool)
        for s in range(0, len(cand), 8192):
            block = cand[s : s + 8192]
            agree = (sig[block[:, 0]] == sig[block[:, 1]]).mean(axis=1)
            keep[s : s + 8192] = agree >= cfg.threshold - 0.2
        cand = cand[keep]
    sets: dict[int, set[int]] = {}
    for a, b in cand.tolist():
        sa = sets.get(a) or sets.setdefault(a, set(sh.of(a).tolist()))
        sb = sets.get(b) or sets.setdefault(b, set(sh.of(b).tolist()))
        jac = len(sa & sb) / len(sa | sb)
        if jac >= cfg.threshold:
            result.pairs.append((a, b, jac))
            uf.union(a, b)
            edge_sim[a] = min(edge_sim.get(a, 1.0), jac)
            edge_sim[b] = min(edge_sim.get(b, 1.0), jac)

    result.clusters = assemble_clusters(uf, edge_sim, lambda m: forms[m])
    return result


def assemble_clusters(uf: _UnionFind, edge_sim: dict[int, float], form: Callable[[int], Any]) -> list[Cluster]:
    """Clusters from the joined pairs; `form(i)` is record i's comparison form (or its hash),
    so a cluster whose members all share one form is "exact"."""
    groups: dict[int, list[int]] = {}
    for i in uf.parent:
        groups.setdefault(uf.find(i), []).append(i)
    clusters = []
    for root, members in sorted(groups.items()):
        members = sorted(set(members) | {root})
        if len(members) < 2:
            continue
        exact = len({form(m) for m in members}) == 1
        sim = 1.0 if exact else min(edge_sim.get(m, 1.0) for m in members)
        clusters.append(Cluster(root, members, "exact" if exact else "near", round(sim, 4)))
    return clusters
