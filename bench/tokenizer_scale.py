"""`oshie tokenizer train-corpus` at scale: time and peak memory of a 50k SentencePiece vocabulary
on >= 50M characters, one process.

    python bench/tokenizer_scale.py --chars 50000000 --vocab 50000

The corpus is generated offline: an order-3 character Markov chain fitted on the shipped
sample corpus writes Japanese-looking text with far more distinct substrings than the
sample's few hundred sentences (which cannot fill a 50k vocabulary). Prints the sample
size, vocabulary reached, removed pieces by reason, wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path


def markov_corpus(path: Path, n_chars: int, seed: int = 0, order: int = 3) -> None:
    from oshie.corpus.synthetic import sample_sentences

    text = "\n".join(sample_sentences())
    nxt: dict[str, list[str]] = defaultdict(list)
    for i in range(len(text) - order):
        nxt[text[i : i + order]].append(text[i + order])
    keys = list(nxt)
    rnd = random.Random(seed)
    written = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        doc = 0
        while written < n_chars:
            state = rnd.choice(keys)
            out = list(state)
            for _ in range(rnd.randint(300, 1500)):
                choices = nxt.get(state)
                c = rnd.choice(choices) if choices else rnd.choice(keys)[0]
                out.append(c)
                state = (state + c)[-order:]
            body = "".join(out)
            fh.write(json.dumps({"id": str(doc), "text": body}, ensure_ascii=False) + "\n")
            written += len(body)
            doc += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chars", type=int, default=50_000_000)
    ap.add_argument("--vocab", type=int, default=50_000)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    from oshie.train.corpus_tokenizer import train_corpus_tokenizer

    work = args.workdir or Path(tempfile.mkdtemp(prefix="oshie-tok-bench-"))
    corpus = work / "corpus" / "markov" / "part-0.jsonl"
    t0 = time.perf_counter()
    markov_corpus(corpus, args.chars)
    print(f"generated {args.chars:,} characters in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    report = train_corpus_tokenizer([corpus.parent], work / "tokenizer", vocab_size=args.vocab,
                                    sample_chars=args.chars * 2)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    removed = {k: v["count"] for k, v in report["removed"].items()}
    print(f"sample {report['sample']['sample_chars']:,} chars; vocab {report['vocab_size']:,} of {args.vocab:,}; "
          f"removed {removed}; wall {wall:.0f} s; peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
