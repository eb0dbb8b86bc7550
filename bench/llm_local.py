"""LocalLLM batched generation against plain one-prompt-at-a-time `model.generate`.

Builds the tiny (or --preset small) random Llama locally, then generates the same number
of new tokens for each prompt both ways. Run by hand:

    .venv/bin/python bench/llm_local.py [--n 32] [--batch-size 8] [--tokens 32] [--preset tiny]
                                      [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=32, help="prompts")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=32, help="new tokens per prompt")
    ap.add_argument("--preset", default="tiny", help="tiny | small | base")
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds (best is shown)")
    args = ap.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.conftest
    import torch
    from tests.conftest import sample_corpus_lines

    from oshie.llm import GenerationParams, LLMRequest, LocalLLM
    from oshie.train.tiny import init_model
    from oshie.train.tokenizer import train_bpe_tokenizer

    lines = sample_corpus_lines()
    prompts = [lines[i % len(lines)][:40] for i in range(args.n)]
    with tempfile.TemporaryDirectory() as tmp:
        tok = train_bpe_tokenizer(lines, vocab_size=2000, out_dir=Path(tmp) / "tok")
        model_dir = init_model(tok, Path(tmp) / "model", preset=args.preset, seed=0)
        llm = LocalLLM(model_dir, batch_size=args.batch_size).load()
        # the model never emits EOS early here: both ways generate exactly --tokens tokens
        eos_free = GenerationParams(max_tokens=args.tokens, temperature=1.0, seed=0)
        reqs = [LLMRequest(prompt=p, params=eos_free) for p in prompts]

        net, tokenizer = llm.net, llm.tokenizer

        def plain() -> int:
            made = 0
            with torch.inference_mode():
                for p in prompts:
                    ids = tokenizer(p, return_tensors="pt")
                    out = net.generate(
                        **ids,
                        max_new_tokens=args.tokens,
                        do_sample=True,
                        min_new_tokens=args.tokens,
                        pad_token_id=tokenizer.pad_token_id,
                    )
                    made += out.shape[1] - ids["input_ids"].shape[1]
            return made

        def ours(batch_size: int):
            def run() -> int:
                made = 0
                for i in range(0, len(reqs), batch_size):
                    gens = llm.generate_batch(reqs[i : i + batch_size])
                    made += sum(g.usage.completion_tokens for g in gens)
                return made

            return run

        runs = [
            ("transformers generate, one at a time", plain),
            ("oshie LocalLLM, batch 1", ours(1)),
            (f"oshie LocalLLM, batch {args.batch_size}", ours(args.batch_size)),
        ]

        def in_fresh_thread(fn):
            # every run on a new thread, as LocalLLM.generate does (asyncio.to_thread): on a
            # busy small machine torch on the main thread can be several times slower
            box: list[int] = []
            th = threading.Thread(target=lambda: box.append(fn()))
            th.start()
            th.join()
            return box[0]

        for _, fn in runs:  # warm-up
            in_fresh_thread(fn)
        best: dict[str, tuple[float, int]] = {}
        for _ in range(args.repeat):  # interleaved, best of N: the machine may be busy
            for name, fn in runs:
                t0 = time.perf_counter()
                made = in_fresh_thread(fn)
                secs = time.perf_counter() - t0
                if name not in best or secs < best[name][0]:
                    best[name] = (secs, made)

    print(
        f"{args.n} prompts, preset {args.preset}, up to {args.tokens} new tokens each, "
        f"{torch.get_num_threads()} torch threads"
    )
    print(f"{'generator':40} {'wall s':>8} {'tokens':>7} {'tok/s':>8} {'vs plain':>9}")
    base_secs, base_toks = best[runs[0][0]]
    for name, (secs, toks) in best.items():
        print(
            f"{name:40} {secs:8.2f} {toks:7d} {toks / secs:8.1f} "
            f"{(toks / secs) / (base_toks / base_secs):8.2f}x"
        )


if __name__ == "__main__":
    main()
