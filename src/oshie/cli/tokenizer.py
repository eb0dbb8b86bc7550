"""`oshie tokenizer`: train a Japanese-ready tokenizer and compare fertility.

Parsing and printing only; the work is in `oshie.train.tokenizer`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from oshie.console import info, out, warn
from oshie.errors import UsageError

SUMMARY = "Train and compare Japanese tokenizers."
app = typer.Typer(no_args_is_help=True)


def _fertility_table(rows: list[dict], title: str) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("tokenizer")
    t.add_column("vocab", justify="right")
    t.add_column("chars", justify="right")
    t.add_column("tokens", justify="right")
    t.add_column("chars/token", justify="right")
    t.add_column("tokens/1k chars", justify="right")
    t.add_column("unk", justify="right")
    for r in rows:
        t.add_row(escape(r["name"]), str(r["vocab_size"]), str(r["characters"]), str(r["tokens"]),
                  f"{r['chars_per_token']:.3f}", f"{r['tokens_per_1k_chars']:.1f}", str(r["unknown_tokens"]))
    return t


@app.command("train")
def train(
    corpus: Annotated[list[Path], typer.Argument(help="Text files (.txt: one document per line) or .jsonl with a 'text' field.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory to save the Hugging Face tokenizer in.")],
    vocab_size: Annotated[int, typer.Option("--vocab-size", "-v", help="Target vocabulary size (special tokens included).")] = 32000,
    kind: Annotated[str, typer.Option("--type", "-t", help="bpe (byte-level BPE), sp-unigram or sp-bpe (SentencePiece with byte fallback).")] = "bpe",
    text_field: Annotated[str, typer.Option("--text-field", help="JSONL key holding the text.")] = "text",
    holdout_every: Annotated[int, typer.Option("--holdout-every", help="Hold out every N-th document for the fertility report (not trained on).")] = 10,
    compare: Annotated[list[Path] | None, typer.Option("--compare", "-c", help="Another local tokenizer dir to compare fertility with (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fertility report as JSON.")] = False,
) -> None:
    """Train a tokenizer with ChatML special tokens and report its fertility on held-out text."""
    from oshie.paths import guard_outputs
    from oshie.train.corpus import read_texts
    from oshie.train.tokenizer import fertility, load_tokenizer, split_holdout, train_tokenizer

    guard_outputs([out_dir, out_dir / "fertility.json", out_dir / "tokenizer.json"], [*corpus, *(compare or [])],
                  option="--out")
    if vocab_size < 300:
        raise UsageError("--vocab-size must be at least 300 (256 bytes + special tokens + merges)")
    texts = read_texts(corpus, text_field=text_field)
    if not texts:
        raise UsageError("the corpus holds no text", path=corpus[0])
    train_texts, held = split_holdout(texts, holdout_every)
    info(f"training {kind} tokenizer on {len(train_texts)} documents ({sum(map(len, train_texts))} chars), "
         f"{len(held)} held out")
    path = train_tokenizer(train_texts, vocab_size, out_dir, kind)
    rows = [fertility(load_tokenizer(path), held, name=f"{path} ({kind})").as_dict()]
    for other in compare or []:
        rows.append(fertility(load_tokenizer(other), held, name=str(other)).as_dict())
    (Path(path) / "fertility.json").write_text(json.dumps(rows, ensure_ascii=False, indent=2), "utf-8")
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    out.print(_fertility_table(rows, f"fertility on {len(held)} held-out documents"))
    out.print(f"saved -> {escape(str(path))}")


@app.command("train-corpus")
def train_corpus(
    corpus: Annotated[list[Path], typer.Argument(help="Corpus files or directories (.jsonl(.gz/.zst), .parquet, .txt, .warc.wet.gz).")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory to save the Hugging Face tokenizer in.")],
    vocab_size: Annotated[int, typer.Option("--vocab-size", "-v", help="Target vocabulary size.")] = 50_000,
    sample_chars: Annotated[int, typer.Option("--sample-chars", help="Characters of the corpus SentencePiece trains on (sampled by line).")] = 300_000_000,
    keep_unsuitable: Annotated[bool, typer.Option("--keep-unsuitable", help="Keep NG-word, URL/markup, long-run and script-mixing pieces.")] = False,
    kind: Annotated[str, typer.Option("--type", "-t", help="sp-unigram, sp-bpe (SentencePiece with byte fallback) or bpe (byte-level BPE).")] = "sp-unigram",
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed.")] = 0,
    text_field: Annotated[str, typer.Option("--text-field", help="JSONL key / Parquet column holding the text.")] = "text",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """A tokenizer (SentencePiece unigram by default) on a character sample of a corpus, unsuitable pieces removed (report in tokenizer_report.json)."""
    from oshie.paths import guard_outputs
    from oshie.train.corpus_tokenizer import train_corpus_tokenizer

    guard_outputs([out_dir / "tokenizer.json", out_dir / "tokenizer_report.json"], corpus)
    report = train_corpus_tokenizer(corpus, out_dir, vocab_size=vocab_size, sample_chars=sample_chars,
                                    remove=not keep_unsuitable, seed=seed, text_field=text_field, kind=kind)
    if report["vocab_size_trained"] < vocab_size:
        warn(f"the trainer found only {report['vocab_size_trained']} of {vocab_size} pieces: "
             "the text is too small or too repetitive for this vocabulary (give more, more varied text)")
    if as_json:
        out.print_json(json.dumps(report, ensure_ascii=False))
        return
    s = report["sample"]
    info(f"sampled {s['sample_chars']} of {s['corpus_chars']} characters ({s['sample_lines']} lines)")
    t = Table(title="removed pieces", title_justify="left")
    t.add_column("reason")
    t.add_column("count", justify="right")
    t.add_column("examples")
    for reason, r in report["removed"].items():
        t.add_row(reason, str(r["count"]), escape(" ".join(r["pieces"][:8])))
    out.print(t)
    rows = list(report["fertility"].values())
    if rows:
        out.print(_fertility_table(rows, "fertility on held-out documents per source"))
    out.print(f"vocab {report['vocab_size']} ({report['vocab_size_trained']} trained, "
              f"{report['vocab_size_trained'] - report['vocab_size']} removed) in {report['seconds']['total']} s -> {escape(str(out_dir))}")


@app.command("fertility")
def fertility_cmd(
    tokenizers: Annotated[list[Path], typer.Argument(help="Local tokenizer or model directories.")],
    corpus: Annotated[list[Path], typer.Option("--corpus", help="Text files to measure on (.txt or .jsonl).")],
    text_field: Annotated[str, typer.Option("--text-field", help="JSONL key holding the text.")] = "text",
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Compare characters per token of local tokenizers on the same text."""
    from oshie.train.corpus import read_texts
    from oshie.train.tokenizer import fertility, load_tokenizer

    texts = read_texts(corpus, text_field=text_field)
    rows = [fertility(load_tokenizer(t), texts, name=str(t)).as_dict() for t in tokenizers]
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False))
    else:
        out.print(_fertility_table(rows, f"fertility on {len(texts)} documents"))
