"""`oshie corpus`: clean, deduplicate and mix pre-training corpora, locally or on Ray.

Parsing and printing only; the work is in `oshie.corpus`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from oshie.cli.common import Option, add_options
from oshie.console import out

SUMMARY = "Pre-training corpora: clean, dedup, mix, quality classifier, stats."
app = typer.Typer(no_args_is_help=True)

InputsArg = Annotated[list[Path], typer.Argument(
    help="Corpus files or directories: .jsonl(.gz/.zst), .parquet, .txt(.gz/.zst), .warc.wet.gz.")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output directory (kept/, rejected/, quarantine/, manifest.json).")]
EngineOpt = Annotated[str, typer.Option("--engine", help="local (processes over shards) or ray (Ray Data over the same shards).")]
RayOpt = Annotated[str | None, typer.Option("--ray-address", help="An existing Ray cluster: auto or ray://host:10001 (default: a local one).")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", "-j", help="Local worker processes (default: CPU count).")]
TextFieldOpt = Annotated[str, typer.Option("--text-field", help="JSONL key / Parquet column holding the text.")]
FormatOpt = Annotated[str, typer.Option("--format", help="Output shards: parquet or jsonl.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML settings (see the README).")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override a setting: key=value (repeatable).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


SourceOpt = Annotated[str | None, typer.Option("--source", help="Source name for documents without one (default: the parent directory).")]


@dataclass
class StepOptions:
    """The options every corpus step shares: how shards are read and written, where the work
    runs (the same shards locally or on Ray) and whether the summary prints as JSON."""

    text_field: str = "text"
    source: str | None = None
    fmt: str = "parquet"
    engine: str = "local"
    workers: int | None = None
    ray_address: str | None = None
    as_json: bool = False

    def run(self, step: Callable[..., Any], inputs: list[Path], out_dir: Path, cfg: Any) -> Any:
        """Run an `oshie.corpus` step (`run_clean`, `run_dedup`, `run_mix`) with these options."""
        from oshie.corpus.run import EngineOptions

        engine = EngineOptions(engine=self.engine, workers=self.workers, ray_address=self.ray_address)
        return step(inputs, out_dir, cfg, text_field=self.text_field, source=self.source,
                    fmt=self.fmt, opts=engine)


def step_options(*, source: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the shared step options after a command's own (--source only when the command
    names sources); the command receives them as `step: StepOptions`."""
    options: list[Option] = [("text_field", TextFieldOpt, "text")]
    if source:
        options.append(("source", SourceOpt, None))
    options += [("fmt", FormatOpt, "parquet"), ("engine", EngineOpt, "local"),
                ("workers", WorkersOpt, None), ("ray_address", RayOpt, None),
                ("as_json", JsonOpt, False)]
    return add_options("step", options, lambda given: StepOptions(**given))


def _summary(result: Any, title: str, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps({"totals": result.totals, "by_source": result.by_source, **result.extra},
                                  ensure_ascii=False, default=str))
        return
    t = Table(title=title, title_justify="left")
    t.add_column("ソース")
    for col in ("入力", "残す", "文字数(残)"):
        t.add_column(col, justify="right")
    for source, c in result.by_source.items():
        t.add_row(escape(source), str(c.get("in_docs", 0)), str(c.get("kept_docs", 0)), str(c.get("kept_chars", 0)))
    out.print(t)
    tot = result.totals
    out.print(f"入力 {tot['in']} = 残す {tot['kept']} + 除外 {tot['rejected']} + 隔離 {tot['quarantined']}"
              f"  -> {escape(str(result.out_dir))}")


@app.command("clean")
@step_options()
def clean(
    inputs: InputsArg,
    out_dir: OutOpt,
    preset: Annotated[str | None, typer.Option("--preset", "-p", help="swallow-v1 or llm-jp-v1 (overrides the config file).")] = None,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    step: StepOptions = None,  # type: ignore[assignment]  # the shared step options
) -> None:
    """Rule filters (Swallow / llm-jp presets) and boilerplate removal; every drop has a reason."""
    from oshie.config import load_config
    from oshie.corpus.clean import run_clean
    from oshie.corpus.presets import CleanConfig

    pairs = list(overrides or [])
    if preset:
        pairs.insert(0, f"preset={preset}")
    cfg = load_config(CleanConfig, config, pairs)
    result = step.run(run_clean, inputs, out_dir, cfg)
    _summary(result, f"corpus clean ({cfg.preset})", step.as_json)
    if not step.as_json:
        t = Table(title="フィルタ別", title_justify="left")
        for col in ("filter", "seen", "dropped", "changed", "seconds"):
            t.add_column(col, justify="left" if col == "filter" else "right")
        for code, st in result.extra["filters"].items():
            changed = str(st["hits"]) if code == "boilerplate" else "-"
            t.add_row(code, str(st["seen"]), str(st["dropped"]), changed, f"{st['seconds']:.2f}")
        out.print(t)


@app.command("dedup")
@step_options()
def dedup(
    inputs: InputsArg,
    out_dir: OutOpt,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Estimated Jaccard of character 5-grams at or above which documents are near-duplicates (default 0.7).")] = None,
    step: StepOptions = None,  # type: ignore[assignment]  # the shared step options
) -> None:
    """Exact + MinHash LSH near-duplicate removal across all shards and sources; clusters.jsonl reports each cluster."""
    from oshie.config import load_config
    from oshie.corpus.dedup import CorpusDedupConfig, run_dedup

    pairs = list(overrides or [])
    if threshold is not None:
        pairs.append(f"threshold={threshold}")
    cfg = load_config(CorpusDedupConfig, config, pairs)
    result = step.run(run_dedup, inputs, out_dir, cfg)
    _summary(result, "corpus dedup", step.as_json)
    if not step.as_json:
        d = result.extra["dedup"]
        out.print(f"bands {d['bands']} × rows {d['rows']}, 候補 {d['candidates']}, 重複ペア {d['pairs']}, "
                  f"クラスタ {d['clusters']} -> {escape(str(result.out_dir / 'clusters.jsonl'))}")


@app.command("mix")
@step_options()
def mix(
    inputs: InputsArg,
    out_dir: OutOpt,
    targets: Annotated[list[str] | None, typer.Option("--target", "-t", help="group=share of tokens, e.g. -t web=0.7 -t news=0.3 (repeatable).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Group by 'source' (default) or 'lang' (ja / en / code).")] = None,
    tokenizer: Annotated[str | None, typer.Option("--tokenizer", help="Tokenizer directory to count tokens with, or 'chars' (default).")] = None,
    total_tokens: Annotated[int | None, typer.Option("--total-tokens", help="Tokens wanted (default: as many as the scarcest group allows).")] = None,
    max_repeat: Annotated[float | None, typer.Option("--max-repeat", help="Allow repeating a group's documents up to this many times (upsampling).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Sampling seed.")] = None,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    step: StepOptions = None,  # type: ignore[assignment]  # the shared step options
) -> None:
    """Sample to target token shares per source or language (seeded); report achieved vs requested."""
    from oshie.config import load_config, parse_override, parse_overrides
    from oshie.corpus.mix import MixConfig, run_mix
    from oshie.errors import UsageError

    pairs: list[tuple[str, Any]] = [("targets", {})] if targets else []
    for t in targets or []:
        key, value = parse_override(t, example="web=0.7")
        if not isinstance(value, int | float):
            raise UsageError(f"--target {t}: the share must be a number", hint="e.g. --target web=0.7")
        pairs.append((f"targets.{key}", value))
    for name, value in (("by", by), ("tokenizer", tokenizer), ("total_tokens", total_tokens),
                        ("max_repeat", max_repeat), ("seed", seed)):
        if value is not None:
            pairs.append((name, value))
    cfg = load_config(MixConfig, config, [*pairs, *parse_overrides(overrides)])
    result = step.run(run_mix, inputs, out_dir, cfg)
    if step.as_json:
        _summary(result, "", True)
        return
    m = result.extra["mix"]
    t = Table(title=f"corpus mix (by {m['by']}, tokens: {escape(m['tokenizer'])})", title_justify="left")
    for col in ("group", "requested", "achieved", "tokens", "available", "rate"):
        t.add_column(col, justify="left" if col == "group" else "right")
    for g, r in m["groups"].items():
        t.add_row(escape(g), f"{r['requested']:.1%}", f"{r['achieved']:.1%}", str(r["tokens"]),
                  str(r["available_tokens"]), f"{r['rate']:.3f}")
    out.print(t)
    tot = result.totals
    out.print(f"tokens {m['total_tokens']} (requested {m['total_tokens_requested']}); documents in {tot['in']} = "
              f"taken {tot['kept']} + not taken {tot['rejected']} + quarantined {tot['quarantined']}; "
              f"repeats {m['repeats']} -> {escape(str(result.out_dir))}")


classifier_app = typer.Typer(no_args_is_help=True, help="The learned quality classifier: train, eval, score.")
app.add_typer(classifier_app, name="classifier")
CleanOpt = Annotated[list[Path], typer.Option("--clean", help="Clean documents (files or directories; repeatable).")]
DirtyOpt = Annotated[list[Path], typer.Option("--dirty", help="Dirty documents (files or directories; repeatable).")]


def _metrics_line(m: dict[str, Any]) -> str:
    return (f"precision {m['precision']:.3f}  recall {m['recall']:.3f}  AUC {m['auc']:.3f}  "
            f"threshold {m['threshold']:.3f}  ({m['documents']} documents, {m['clean']} clean)")


@classifier_app.command("train")
def classifier_train(
    clean: CleanOpt,
    dirty: DirtyOpt,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Model directory (model.safetensors + classifier.json).")],
    target_precision: Annotated[float | None, typer.Option("--target-precision", help="Pick the threshold reaching this held-out precision (default 0.95).")] = None,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    text_field: TextFieldOpt = "text",
) -> None:
    """Train clean-vs-dirty on character n-grams; held-out precision/recall/AUC and a threshold."""
    from oshie.config import load_config
    from oshie.corpus.classifier import ClassifierConfig, read_texts, train
    from oshie.paths import guard_outputs

    pairs = [f"target_precision={target_precision}"] if target_precision is not None else []
    cfg = load_config(ClassifierConfig, config, [*pairs, *(overrides or [])])
    guard_outputs([out_dir / "model.safetensors", out_dir / "classifier.json"], [*clean, *dirty])
    report = train(read_texts(clean, cfg.max_docs, text_field), read_texts(dirty, cfg.max_docs, text_field), out_dir, cfg)
    out.print(f"held out: {_metrics_line(report['heldout'])}")
    out.print(f"-> {escape(str(out_dir))}")


@classifier_app.command("eval")
def classifier_eval(
    model: Annotated[Path, typer.Argument(help="Model directory.")],
    clean: CleanOpt,
    dirty: DirtyOpt,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Score threshold (default: the model's).")] = None,
    text_field: TextFieldOpt = "text",
    as_json: JsonOpt = False,
) -> None:
    """Precision, recall and AUC of a trained classifier on labelled documents."""
    from oshie.corpus.classifier import evaluate, read_texts

    m = evaluate(model, read_texts(clean, 10**9, text_field), read_texts(dirty, 10**9, text_field), threshold)
    if as_json:
        out.print_json(json.dumps(m))
    else:
        out.print(_metrics_line(m))


@classifier_app.command("score")
@step_options(source=False)
def classifier_score(
    model: Annotated[Path, typer.Argument(help="Model directory.")],
    inputs: InputsArg,
    out_dir: OutOpt,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Drop below this score (default: the model's threshold).")] = None,
    step: StepOptions = None,  # type: ignore[assignment]  # the shared step options
) -> None:
    """Score every document; keep those at or above the threshold (the classifier as a filter step)."""
    from oshie.corpus.clean import run_clean
    from oshie.corpus.presets import CleanConfig

    cfg = CleanConfig(classifier=str(model), classifier_threshold=threshold, boilerplate={"enabled": False},
                      disable=[c for c in _rule_codes()])
    _summary(step.run(run_clean, inputs, out_dir, cfg), "corpus classifier score", step.as_json)


def _rule_codes() -> list[str]:
    from oshie.corpus.presets import CleanConfig, build_filters

    return [f.code for f in build_filters(CleanConfig(boilerplate={"enabled": False}))]


@app.command("stats")
def stats(
    inputs: InputsArg,
    tokenizer: Annotated[str, typer.Option("--tokenizer", help="Tokenizer directory to count tokens with, or 'chars'.")] = "chars",
    text_field: TextFieldOpt = "text",
    as_json: JsonOpt = False,
) -> None:
    """Documents, characters, tokens and languages per source, streamed (nothing held whole)."""
    from oshie.corpus.mix import detect_lang, token_counts
    from oshie.corpus.streams import batches, list_shards, read_shard

    table: dict[str, dict[str, Any]] = {}
    bad = 0
    for shard in list_shards(inputs):
        for docs, quarantined in batches(read_shard(shard, text_field=text_field), 2048):
            bad += len(quarantined)
            tokens = token_counts([d["text"] for d in docs], tokenizer).tolist()
            for d, n in zip(docs, tokens, strict=True):
                t = table.setdefault(d["source"], {"documents": 0, "chars": 0, "tokens": 0, "langs": {}})
                t["documents"] += 1
                t["chars"] += len(d["text"])
                t["tokens"] += n
                lang = detect_lang(d["text"])
                t["langs"][lang] = t["langs"].get(lang, 0) + 1
    if as_json:
        out.print_json(json.dumps({"sources": table, "quarantined": bad}, ensure_ascii=False))
        return
    t = Table(title=f"corpus stats (tokens: {escape(tokenizer)})", title_justify="left")
    for col in ("source", "documents", "chars", "tokens", "chars/doc", "languages"):
        t.add_column(col, justify="left" if col in ("source", "languages") else "right")
    for source, r in sorted(table.items()):
        langs = ", ".join(f"{k} {v}" for k, v in sorted(r["langs"].items(), key=lambda kv: -kv[1]))
        t.add_row(escape(source), str(r["documents"]), str(r["chars"]), str(r["tokens"]),
                  f"{r['chars'] / max(r['documents'], 1):.0f}", langs)
    out.print(t)
    if bad:
        out.print(f"quarantined (unreadable) records: {bad}")


@app.command("generate")
def generate(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory to write <source>/part-*.jsonl files into.")],
    docs: Annotated[int, typer.Option("--docs", "-n", help="Documents per source (style 'defects').")] = 1000,
    sources: Annotated[list[str] | None, typer.Option("--source", help="Source names (repeatable; default web, news).")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    style: Annotated[str, typer.Option("--style", help="defects: sample-corpus sentences, about half the documents "
                                       "with a planted defect; varied: text from a seeded lexicon of ~150k words, "
                                       "enough distinct substrings for a 50k tokenizer.")] = "defects",
    chars: Annotated[int, typer.Option("--chars", help="Characters per source (style 'varied').")] = 10_000_000,
    shard_chars: Annotated[int, typer.Option("--shard-chars", help="Characters per shard (style 'varied').")] = 10_000_000,
    fmt: FormatOpt = "parquet",
) -> None:
    """Write generated Japanese documents to try the pipeline offline."""
    from oshie.errors import UsageError

    if style == "varied":
        from oshie.console import progress
        from oshie.corpus.lexicon import write_shards

        if fmt not in ("parquet", "jsonl"):
            raise UsageError(f"unknown --format {fmt!r}", field="--format", hint="parquet or jsonl")
        with progress() as bar:
            for k, source in enumerate(sources or ["web", "news"]):
                task = bar.add_task(f"{source}: characters", total=chars)
                paths, n_chars = write_shards(out_dir, source, chars, seed=seed + k, shard_chars=shard_chars, fmt=fmt,
                                     on_chars=lambda n, task=task: bar.advance(task, n))
                out.print(f"{n_chars} characters in {len(paths)} shards -> {escape(str(paths[0].parent))}")
        return
    if style != "defects":
        raise UsageError(f"unknown --style {style!r}", field="--style", hint="defects or varied")
    from oshie.corpus.synthetic import write_sources

    for path in write_sources(out_dir, docs, sources or ["web", "news"], seed).values():
        out.print(f"{docs} documents -> {escape(str(path))}")
