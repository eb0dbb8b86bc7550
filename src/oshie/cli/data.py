"""`oshie data`: convert, validate and describe instruction data.

Only option parsing and printing here; the work is in `oshie.data.validate` and
`oshie.data.stats`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from oshie.cli.common import key_value_table
from oshie.console import console, out, warn
from oshie.errors import DataError

SUMMARY = "Read, convert, validate, audit and describe instruction data."
app = typer.Typer(no_args_is_help=True)

FORMAT_HELP = "ichikara, alpaca, sharegpt, messages, prompt_completion or preference"
TYPE_HELP = "jsonl, json, csv, tsv, xlsx, parquet, hf (a `save_to_disk` directory) or txt (input only: one instruction a line)"
UNANSWERED_HELP = ("Accept instructions without answers (synthesis inputs): chats ending with the user, "
                   "alpaca/ichikara rows without output, prompt-only rows, .txt files (one instruction a line).")
SHOW_ERRORS = 20


def _mb(value: float) -> int:
    return int(value * 1024 * 1024)


def _summary_table(summary: Any) -> Table:
    t = key_value_table()
    how = "detected" if summary.detected else "given"
    t.add_row("input", escape(summary.source))
    t.add_row("file type", summary.file_type)
    t.add_row("encoding", summary.encoding)
    t.add_row("format", f"{summary.format or 'unknown'} ({how})")
    t.add_row("records in", str(summary.records_in))
    if summary.output is not None:
        t.add_row("written", f"{summary.written}  -> {escape(summary.output)} ({summary.output_format})")
    else:
        t.add_row("valid", str(summary.accepted))
    t.add_row("quarantined", str(summary.quarantined) + (f"  -> {escape(summary.quarantine)}" if summary.quarantine else ""))
    if summary.unanswered:
        t.add_row("without answer", str(summary.unanswered))
    if summary.by_field:
        t.add_row("problems by field", escape(", ".join(f"{k} {v}" for k, v in summary.by_field.most_common(8))))
    for note in summary.notes:
        t.add_row("note", escape(note))
    return t


def _print_summary(summary: Any, as_json: bool, all_valid_note: bool = False) -> None:
    if as_json:
        out.print_json(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    out.print(_summary_table(summary))
    if summary.errors:
        out.print(_error_table(summary))
    elif all_valid_note:
        out.print("[green]all records are valid[/green]")


def _error_table(summary: Any) -> Table:
    label = summary.errors[0].line_label if summary.errors else "line"
    t = Table(title=f"first {min(SHOW_ERRORS, len(summary.errors))} of {summary.quarantined} problems",
              title_justify="left")
    t.add_column(label, justify="right")
    t.add_column("field")
    t.add_column("problem")
    for err in summary.errors[:SHOW_ERRORS]:
        reason = err.message + (f" [dim]({escape(err.hint)})[/dim]" if err.hint else "")
        t.add_row(str(err.line or ""), escape(err.field or "-"), reason)
    return t


@app.command("convert")
def convert(
    src: Annotated[Path, typer.Argument(help="Input file (or `save_to_disk` directory).")],
    dst: Annotated[Path, typer.Argument(help="Output file; its extension picks the file type.")],
    from_fmt: Annotated[str | None, typer.Option("--from", help=f"Input format ({FORMAT_HELP}); detected if left out.")] = None,
    to_fmt: Annotated[str, typer.Option("--to", help=f"Output format ({FORMAT_HELP}).")] = "messages",
    quarantine: Annotated[Path | None, typer.Option("--quarantine", help="JSONL file for rejected records (default: OUT.quarantine.jsonl, made only if needed).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first bad record and write nothing.")] = False,
    in_type: Annotated[str | None, typer.Option("--in-type", help=f"Input file type ({TYPE_HELP}); from the extension if left out.")] = None,
    out_type: Annotated[str | None, typer.Option("--out-type", help=f"Output file type ({TYPE_HELP}); from the extension if left out.")] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="Output text encoding: utf-8, utf-8-sig (BOM, for Excel) or cp932.")] = "utf-8",
    max_line_mb: Annotated[float, typer.Option("--max-line-mb", help="Reject JSONL lines longer than this (MB).")] = 16,
    allow_unanswered: Annotated[bool, typer.Option("--allow-unanswered", help=UNANSWERED_HELP)] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Convert between file types and formats. Records in = written + quarantined."""
    from oshie.data.validate import convert_file

    summary = convert_file(src, dst, from_fmt=from_fmt, to_fmt=to_fmt, quarantine=quarantine, strict=strict,
                           in_file_type=in_type, out_file_type=out_type, encoding=encoding,
                           max_line_bytes=_mb(max_line_mb), require_answer=not allow_unanswered)
    _print_summary(summary, as_json)
    if summary.written == 0:
        raise DataError("no record could be converted; nothing was written", path=src,
                        hint=f"see the problems above{' and in ' + summary.quarantine if summary.quarantine else ''}")


@app.command("validate")
def validate(
    src: Annotated[Path, typer.Argument(help="Input file (or `save_to_disk` directory).")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", help=f"Format ({FORMAT_HELP}); detected if left out.")] = None,
    quarantine: Annotated[Path | None, typer.Option("--quarantine", help="Write rejected records (with reason and raw text) to this JSONL file.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first bad record.")] = False,
    in_type: Annotated[str | None, typer.Option("--in-type", help=f"File type ({TYPE_HELP}); from the extension if left out.")] = None,
    max_line_mb: Annotated[float, typer.Option("--max-line-mb", help="Reject JSONL lines longer than this (MB).")] = 16,
    allow_unanswered: Annotated[bool, typer.Option("--allow-unanswered", help=UNANSWERED_HELP)] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Check every record; exit 1 if any is invalid (2 for a usage error)."""
    from oshie.data.validate import validate_file

    summary = validate_file(src, fmt, quarantine=quarantine, strict=strict, file_type=in_type,
                            max_line_bytes=_mb(max_line_mb), require_answer=not allow_unanswered)
    _print_summary(summary, as_json, all_valid_note=True)
    _warn_duplicate_ids(summary.duplicate_ids)
    if summary.quarantined:
        raise typer.Exit(DataError.exit_code)


def _warn_duplicate_ids(repeats: list[tuple[str, int, int]]) -> None:
    """Two records with one id are valid one by one, but resumable stages key on ids."""
    for record_id, first, line in repeats[:SHOW_ERRORS]:
        warn(f"duplicate id '{escape(record_id)}' on lines {first} and {line}")
    if len(repeats) > SHOW_ERRORS:
        warn(f"... {len(repeats) - SHOW_ERRORS} more duplicate ids (see --json)")


def _length_table(lengths: dict[str, dict[str, Any]]) -> Table:
    t = Table(title="characters per text", title_justify="left")
    t.add_column("text")
    for col in ("n", "min", "median", "p90", "max", "mean"):
        t.add_column(col, justify="right")
    for name, d in lengths.items():
        t.add_row(name, *(f"{d[c]:g}" if isinstance(d[c], float) else str(d[c])
                          for c in ("n", "min", "median", "p90", "max", "mean")))
    return t


def _histogram(name: str, hist: dict[str, int], width: int = 40) -> Table:
    t = Table(title=f"{name} length histogram (characters)", title_justify="left", box=None)
    t.add_column("chars", justify="right")
    t.add_column("records", justify="right")
    t.add_column("")
    top = max(hist.values()) or 1
    for label, n in hist.items():
        t.add_row(label, str(n), "█" * round(width * n / top))
    return t


def _counter_table(title: str, counts: dict[str, int], total: int) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column(title.split()[0])
    t.add_column("records", justify="right")
    t.add_column("%", justify="right")
    for key, n in counts.items():
        t.add_row(escape(str(key)), str(n), f"{100 * n / max(total, 1):.1f}")
    return t


@app.command("stats")
def stats(
    src: Annotated[Path, typer.Argument(help="Input file (or `save_to_disk` directory).")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", help=f"Format ({FORMAT_HELP}); detected if left out.")] = None,
    in_type: Annotated[str | None, typer.Option("--in-type", help=f"File type ({TYPE_HELP}); from the extension if left out.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON.")] = False,
) -> None:
    """Counts, roles, turns, character lengths (min/median/p90/max, histogram) and categories."""
    from oshie.data.stats import compute_stats

    s = compute_stats(src, fmt, file_type=in_type)
    if as_json:
        out.print_json(json.dumps(s, ensure_ascii=False))
        return
    head = key_value_table()
    head.add_row("input", escape(s["file"]))
    head.add_row("file type / encoding", f"{s['file_type']} / {s['encoding']}")
    head.add_row("format", f"{s['format']} ({'detected' if s['format_detected'] else 'given'})")
    kinds = ", ".join(f"{k} {v}" for k, v in s["kinds"].items())
    head.add_row("records", f"{s['records']}" + (f"  ({kinds})" if kinds else ""))
    head.add_row("invalid", str(s["invalid"]) + ("  (see `oshie data validate`)" if s["invalid"] else ""))
    head.add_row("with system prompt", str(s["with_system"]))
    head.add_row("duplicate ids", str(s["duplicate_ids"]))
    head.add_row("messages by role", ", ".join(f"{k} {v}" for k, v in s["roles"].items()))
    head.add_row("user turns", ", ".join(f"{k}: {v}" for k, v in s["user_turns"].items()))
    out.print(head)
    if s["lengths"]:
        out.print(_length_table(s["lengths"]))
        for name in ("instruction", "answer", "chosen"):
            if name in s["lengths"]:
                out.print(_histogram(name, s["lengths"][name]["histogram"]))
    if s["records"]:
        out.print(_counter_table("category (metadata.category)", s["categories"], s["records"]))
    if s["records"] and list(s["sources"]) != ["(none)"]:
        out.print(_counter_table("source (metadata.source)", s["sources"], s["records"]))
    for err in s["first_errors"]:
        console.print(f"[yellow]invalid:[/yellow] {escape(err)}")


@app.command("formats")
def formats() -> None:
    """List the record formats (with the fields that identify them) and file types."""
    from oshie.data.files import FILE_TYPES
    from oshie.data.formats import FORMATS

    t = Table(title="formats", title_justify="left")
    t.add_column("name")
    t.add_column("detected by fields")
    t.add_column("shape")
    for f in FORMATS.values():
        unanswered = f"  (without answer: {', '.join(f.prompt_fields)})" if f.prompt_fields else ""
        t.add_row(f.name, ", ".join(f.required) + unanswered, escape(f.summary))
    out.print(t)
    out.print(f"file types: {', '.join(FILE_TYPES)}")


# Quality commands (`oshie data check`, `oshie data dedup`) register below this line,
# importing their logic from oshie.data.check / oshie.data.dedup.

from oshie.cli.data_check import register  # noqa: E402

register(app)
