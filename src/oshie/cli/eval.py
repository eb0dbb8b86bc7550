"""`oshie eval`: run tasks on a local model, grade answers with an LLM judge, compare systems.

Only option parsing and printing here; the work is in `oshie.eval`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from oshie.cli.common import LLMFlags, llm_options, resolve_llm
from oshie.console import out
from oshie.errors import UsageError
from oshie.paths import guard_outputs

SUMMARY = "Evaluate models: JGLUE tasks, summaries, LLM-judge grading, pairwise."
app = typer.Typer(no_args_is_help=True)

RUN_OUTPUTS = ("results.json", "manifest.json", "report.html", "answers.jsonl", "judgments.jsonl", "pairwise.jsonl")


def _guard(out_dir: Path | None, inputs: list[Path | str | None]) -> None:
    """No eval run may write over a file (or model) it reads."""
    if out_dir is not None:
        guard_outputs([out_dir, *(out_dir / name for name in RUN_OUTPUTS)], inputs, option="--out")


OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Run directory to write (created; re-runs resume).")]


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else ("-" if v is None else str(v))


def _print_results(results: dict[str, dict[str, dict[str, Any]]], out_dir: Path) -> None:
    table = Table(title_justify="left")
    for col in ("task", "metric", "value", "95% CI", "n", "note"):
        table.add_column(col, justify="right" if col in ("value", "95% CI", "n") else "left")
    for task, metrics in results.items():
        for name, m in metrics.items():
            ci = m.get("ci95") or [None, None]
            note = m.get("unit") or "; ".join(
                x for x in ((f"count={m['count']}" if "count" in m else ""), m.get("note") or "") if x)
            table.add_row(escape(task), name, _fmt(m.get("value")),
                          f"[{_fmt(ci[0])}, {_fmt(ci[1])}]", str(m.get("n", "")), escape(str(note)))
    out.print(table)
    out.print(f"wrote {escape(str(out_dir))}/results.json, manifest.json, report.html")


def _judge_llm(flags: LLMFlags) -> tuple[Any, dict[str, Any]]:
    from oshie.llm.config import build_llm

    cfg = resolve_llm(flags)
    return build_llm(cfg, no_cache=flags.no_cache), cfg.model_dump(mode="json", exclude={"extra_body"})


JudgeOptions = llm_options("judge", config_flag=("--judge-config", "--judge"),
                           cache_help="SQLite cache of judge calls; re-runs never repeat a finished call.")
Attempts = Annotated[int, typer.Option("--max-attempts", min=1, help="Judge calls per verdict when the answer cannot be parsed (new sample each time).")]


@app.command("run")
def run(
    model: Annotated[Path | None, typer.Option("--model", "-m", help="Local model directory (safetensors + tokenizer).")] = None,
    task: Annotated[str | None, typer.Option("--task", "-t", help="Task: jcommonsenseqa, jnli, marc_ja, jsquad or summarization.")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Evaluation file in the task's official format.")] = None,
    train_data: Annotated[Path | None, typer.Option("--train-data", help="File to draw few-shot examples from (same format).")] = None,
    shots: Annotated[int | None, typer.Option("--shots", min=0, help="Few-shot examples (default: 3, JSQuAD 2; 0 without --train-data).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Evaluate only the first N items.")] = None,
    template: Annotated[str | None, typer.Option("--template", help="Prompt template: instruction, plain or chat.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the few-shot draw and the bootstrap.")] = 0,
    max_new_tokens: Annotated[int | None, typer.Option("--max-new-tokens", min=1, help="Generation tasks: cap on new tokens (default: per task).")] = None,
    suite: Annotated[Path | None, typer.Option("--suite", help="YAML suite: model, batch_size and a list of tasks (each with task, data, ...).")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="Requests per forward pass (default 8).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory to write (re-running it resumes).")] = None,
    sets: Annotated[list[str] | None, typer.Option("--set", help="Override a suite field, dotted for nested ones, e.g. --set tasks.0.limit=50 (repeatable).")] = None,
    device: Annotated[str | None, typer.Option("--device", help="auto (GPU when there is one), cpu or cuda [default: auto].")] = None,
    encoding: Annotated[str | None, typer.Option("--encoding", help="joint: tokenise prompt+choice together as lm-evaluation-harness does; separate: oshie's earlier convention [default: joint].")] = None,
    truncation: Annotated[str | None, typer.Option("--truncation", help="left: cut an over-long prompt's start (lm-eval's rule) and count it in the results; input: cut the start of the item's input, keeping instruction and examples; error: refuse, naming the item [default: left].")] = None,
    max_length: Annotated[int | None, typer.Option("--max-length", min=2, help="Window in tokens (default: the model's own).")] = None,
) -> None:
    """Evaluate a local model on one task (--task/--data) or a suite (--suite).

    Scores follow lm-evaluation-harness's tokenisation; prompts cut to fit the window are
    counted per task (truncated, answer_cut) in the table, results.json and the report."""
    from oshie.config import parse_overrides
    from oshie.eval.runner import load_suite, run_eval, run_suite

    if sets and suite is None:
        raise UsageError("--set only applies to a --suite file")
    if suite is not None:
        overrides: list[tuple[str, Any]] = parse_overrides(sets, example="tasks.0.limit=50")
        if model is not None:
            overrides.append(("model", str(model.resolve())))
        for key, value in (("batch_size", batch_size), ("device", device), ("encoding", encoding),
                           ("truncation", truncation), ("max_length", max_length)):
            if value is not None:
                overrides.append((key, value))
        cfg = load_suite(suite, overrides)
        target = out_dir or cfg.out
        _guard(Path(str(target)) if target else None,
               [suite, cfg.model, *(p for t in cfg.tasks for p in (t.data, t.train_data))])
        results = run_suite(cfg, target)
        _print_results(results, Path(str(target)))
        return
    if model is None or task is None or data is None or out_dir is None:
        raise UsageError("--model, --task, --data and --out are needed (or --suite FILE)")
    _guard(out_dir, [model, data, train_data])
    spec = {"task": task, "data": data, "train_data": train_data, "shots": shots, "limit": limit,
            "template": template, "seed": seed, "max_new_tokens": max_new_tokens}
    results = run_eval(model, [spec], out_dir, batch_size=batch_size or 8, device=device or "auto",
                       encoding=encoding or "joint", truncation=truncation or "left",
                       max_length=max_length)
    _print_results(results, out_dir)


@app.command("judge")
@JudgeOptions
def judge(
    data: Annotated[Path, typer.Option("--data", help="Tasks file (CSV or JSONL) with input, output (reference) and eval_aspect.")],
    out_dir: OutOpt,
    answers: Annotated[Path | None, typer.Option("--answers", help="Answers to grade (JSONL/CSV with 'answer', matched by id or input).")] = None,
    model: Annotated[Path | None, typer.Option("--model", "-m", help="Local model directory that answers the tasks instead of --answers.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="System name shown in comparisons (default: model dir or answers file name).")] = None,
    prompt: Annotated[str, typer.Option("--prompt", help="Judge prompt: a shipped name (judge_grade_v1) or a .txt path with {{input}}, {{reference}}, {{eval_aspect}}, {{answer}}.")] = "judge_grade_v1",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N tasks.")] = None,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1, help="With --model: cap on answer length in tokens.")] = 256,
    max_attempts: Attempts = 3,
    judge_max_tokens: Annotated[int, typer.Option("--judge-max-tokens", min=1, help="Cap on the judge's reply length in tokens.")] = 512,
    truncation: Annotated[str, typer.Option("--truncation", help="With --model: a task input longer than the model's window is cut and counted (left | input) or refused, naming the task (error).")] = "left",
    llm: LLMFlags = None,  # type: ignore[assignment]  # the shared LLM options, as --judge-*
) -> None:
    """Grade answers 1-5 with an LLM judge against the reference and the task's grading notes."""
    from oshie.eval.judge import run_judge

    _guard(out_dir, [data, answers, model, llm.config, llm.fields.get("cache")])
    client, info = _judge_llm(llm)
    try:
        results = run_judge(data, out_dir, client, answers_path=answers, model_dir=model, prompt=prompt,
                            limit=limit, max_attempts=max_attempts, max_new_tokens=max_new_tokens,
                            system_name=name, judge_info=info, judge_max_tokens=judge_max_tokens,
                            truncation=truncation)
    finally:
        client.close()
    _print_results(results, out_dir)


@app.command("compare")
@JudgeOptions
def compare(
    runs: Annotated[list[Path], typer.Argument(help="Two or more `oshie eval judge` run directories (or answers JSONL files) on the same tasks.")],
    out_dir: OutOpt,
    names: Annotated[list[str] | None, typer.Option("--name", help="System names, one per run, in order (repeatable).")] = None,
    prompt: Annotated[str, typer.Option("--prompt", help="Pairwise judge prompt: a shipped name (judge_pairwise_v1) or a .txt path.")] = "judge_pairwise_v1",
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    max_attempts: Attempts = 3,
    llm: LLMFlags = None,  # type: ignore[assignment]  # the shared LLM options, as --judge-*
) -> None:
    """Judge systems pairwise in both orders: win/tie/loss rates with CIs, Bradley–Terry for 3+."""
    from oshie.eval.pairwise import run_compare

    if len(runs) < 2:
        raise UsageError("compare needs at least two runs")
    if names and len(names) != len(runs):
        raise UsageError(f"{len(names)} --name values for {len(runs)} runs")
    _guard(out_dir, [*runs, *(r / "answers.jsonl" for r in runs), llm.config, llm.fields.get("cache")])
    client, info = _judge_llm(llm)
    try:
        results = run_compare(runs, out_dir, client, prompt=prompt, max_attempts=max_attempts,
                              seed=seed, names=names, judge_info=info)
    finally:
        client.close()
    _print_results(results, out_dir)


@app.command("diff")
def diff(
    run_a: Annotated[Path, typer.Argument(help="Eval run directory of system A (`oshie eval run --out`).")],
    run_b: Annotated[Path, typer.Argument(help="Eval run directory of system B, on the same items.")],
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparisons as JSON instead of a table.")] = False,
) -> None:
    """Paired comparison B - A on the items both runs scored: the difference, its paired
    bootstrap 95% CI, McNemar (0/1 scores) or sign-flip (continuous) p, and Holm's correction
    across all metrics. '*' marks a difference that survives the correction."""
    from oshie.eval.diff import diff_runs

    results, skipped = diff_runs(run_a, run_b, seed=seed)
    if as_json:
        import json

        out.print_json(json.dumps({"comparisons": [r.to_dict() for r in results], "skipped": skipped},
                                  ensure_ascii=False))
        return
    table = Table(title=f"B - A   (A = {escape(str(run_a))}, B = {escape(str(run_b))})", title_justify="left")
    for col in ("metric", "n", "A", "B", "B - A", "95% CI (paired)", "test", "p", "p (Holm)", "verdict"):
        table.add_column(col, justify="left" if col in ("metric", "test", "verdict") else "right")
    for r in results:
        mark = "*" if r.significant else ""
        table.add_row(escape(r.metric), str(r.n), _fmt(r.a), _fmt(r.b), f"{r.diff:+.4f}{mark}",
                      f"[{r.ci95[0]:+.4f}, {r.ci95[1]:+.4f}]", r.test, f"{r.p:.4g}",
                      f"{r.p_holm:.4g}", r.verdict)
    out.print(table)
    if skipped:
        out.print(f"not per-item means (no paired test): {escape(', '.join(skipped))}")
    if not any(r.significant for r in results):
        out.print("no detectable difference after Holm correction")


@app.command("tasks")
def tasks() -> None:
    """List the evaluation tasks and their defaults."""
    from oshie.eval.tasks import REGISTRY

    table = Table(title_justify="left")
    for col in ("task", "kind", "default shots", "description"):
        table.add_column(col)
    for name, cls in sorted(REGISTRY.items()):
        table.add_row(name, cls.kind, str(cls.default_shots), escape(cls.description))
    out.print(table)
