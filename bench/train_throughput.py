"""SFT throughput with and without packing, on the same data and model.

    .venv/bin/python bench/train_throughput.py [--preset tiny] [--epochs 1] [--max-length 512]

Builds a tokenizer and a random model locally (nothing is downloaded), trains one
epoch of the shipped instruction sample each way and prints side by side: optimiser
steps, wall time, real (non-padding) tokens per second, and the padding fraction of
the batches (padded positions / all positions). Packing is measured with TRL's two
strategies: `bfd` (best-fit, documents kept whole, padding-free: the batch is flattened into
one sequence, which needs FlashAttention's variable-length kernels to pay off) and
`wrapped` (concatenate and cut into max_length rows). Run by hand; figures depend on
the machine and on how busy it is.
"""

from __future__ import annotations

import argparse
import tempfile
from importlib import resources
from pathlib import Path

from oshie.console import set_quiet
from oshie.train.config import load_config
from oshie.train.corpus import read_texts
from oshie.train.loading import quiet_library_warnings
from oshie.train.sft import SFT
from oshie.train.tiny import init_model
from oshie.train.tokenizer import train_bpe_tokenizer


def padding_fraction(trainer) -> tuple[float, int]:
    """Share of padded positions over one pass of the training dataloader."""
    padded = total = 0
    for batch in trainer.get_train_dataloader():
        n = batch["input_ids"].numel()
        total += n
        if "attention_mask" in batch:
            padded += n - int(batch["attention_mask"].sum())
    return (padded / total if total else 0.0), total


def run(model_dir: Path, data: str, out: Path, strategy: str | None, args: argparse.Namespace) -> dict:
    config = load_config({
        "model": str(model_dir), "output_dir": str(out), "datasets": [{"path": data}],
        "max_length": args.max_length, "packing": strategy is not None,
        "packing_strategy": strategy or "bfd", "batch_size": args.batch_size,
        "epochs": args.epochs, "learning_rate": 3e-3, "save_steps": 10_000, "logging_steps": 5,
        "seed": 0,
    }, kind="sft")
    with quiet_library_warnings():
        trainer, stats, _, _ = SFT.build_trainer(config, overwrite=True)
        pad_frac, positions = padding_fraction(trainer)
        out_metrics = trainer.train()
    seconds = out_metrics.metrics["train_runtime"]
    real = int(trainer.state.num_input_tokens_seen)
    return {
        "packing": strategy or "none",
        "rows": len(trainer.train_dataset),
        "steps": trainer.state.global_step,
        "wall_s": seconds,
        "real_tokens": real,
        "positions": positions,
        "tokens_per_s": real / seconds,
        "padding_fraction": pad_frac,
        "final_loss": next(e["loss"] for e in reversed(trainer.state.log_history) if "loss" in e),
        "trained_tokens": stats["trained_tokens"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny", help="model size preset: tiny, small, base")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch default)")
    args = parser.parse_args()
    set_quiet(True)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    res = resources.files("oshie").joinpath("resources")
    data = str(res.joinpath("instructions/clean.jsonl"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        tok = train_bpe_tokenizer(read_texts([str(res.joinpath("corpus/ja_sample.txt"))]), 2000, tmp_path / "tok")
        model = init_model(tok, tmp_path / "model", preset=args.preset)
        rows = [run(model, data, tmp_path / f"run{s}", s, args) for s in (None, "bfd", "wrapped")]

    print(f"\nSFT one pass over {data.split('resources/')[-1]}, preset {args.preset}, "
          f"max_length {args.max_length}, batch {args.batch_size}, torch threads {torch.get_num_threads()}")
    print(f"{'':20}{'no packing':>12}{'packing bfd':>13}{'ratio':>7}{'packing wrapped':>17}{'ratio':>7}")
    for key, fmt in [("rows", "{:d}"), ("steps", "{:d}"), ("positions", "{:d}"), ("real_tokens", "{:d}"),
                     ("padding_fraction", "{:.3f}"), ("wall_s", "{:.2f}"), ("tokens_per_s", "{:.0f}"),
                     ("final_loss", "{:.3f}")]:
        a, b, c = rows[0][key], rows[1][key], rows[2][key]
        rb, rc = (f"{b / a:.2f}x", f"{c / a:.2f}x") if a else ("-", "-")
        print(f"{key:20}{fmt.format(a):>12}{fmt.format(b):>13}{rb:>7}{fmt.format(c):>17}{rc:>7}")


if __name__ == "__main__":
    main()
