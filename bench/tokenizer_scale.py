"""`oshie tokenizer train-corpus` at scale: time and peak memory of a 50k SentencePiece vocabulary
on >= 50M characters, one process.

    python bench/tokenizer_scale.py --chars 60000000 --vocab 50000

The corpus is generated offline by `oshie.corpus.lexicon` (the `oshie corpus generate --style
varied` text: a seeded lexicon of ~150k words in varied sentence templates), because the
sample corpus's few hundred sentences cannot fill a 50k vocabulary. Prints the characters
generated and sampled, the vocabulary trained and kept, removed pieces by reason, wall time
and peak RSS of this process.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chars", type=int, default=60_000_000, help="characters generated (two sources)")
    ap.add_argument("--vocab", type=int, default=50_000)
    ap.add_argument("--type", default="sp-unigram", help="sp-unigram, sp-bpe or bpe")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    from oshie.corpus.lexicon import write_shards
    from oshie.train.corpus_tokenizer import train_corpus_tokenizer

    work = args.workdir or Path(tempfile.mkdtemp(prefix="oshie-tok-bench-"))
    t0 = time.perf_counter()
    for k, source in enumerate(("web", "news")):
        write_shards(work / "corpus", source, args.chars // 2, seed=k)
    print(f"generated {args.chars:,} characters in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    report = train_corpus_tokenizer([work / "corpus"], work / "tokenizer", vocab_size=args.vocab,
                                    sample_chars=args.chars, kind=args.type)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    removed = {k: v["count"] for k, v in report["removed"].items()}
    print(f"sample {report['sample']['sample_chars']:,} chars; trained {report['vocab_size_trained']:,} of "
          f"{args.vocab:,}; kept {report['vocab_size']:,}; removed {removed}; wall {wall:.0f} s; peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
