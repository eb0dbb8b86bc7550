"""JSON Lines, JSON arrays and plain-text instruction lists: readers and writers."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oshie import jsonl as oshie_jsonl
from oshie.data.files.base import (
    RAW_PREVIEW,
    RawRow,
    Source,
    atomic,
    decode_error,
    detect_encoding,
    read_text,
)
from oshie.errors import DataError, RowError


def parse_json_object(text: str, line: int) -> RawRow:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return RawRow(line, text, error=RowError(
            f"broken JSON: {exc.msg} at column {exc.colno}", None,
            "each line must be one complete JSON object; check quotes, commas and braces"))
    except RecursionError:
        return RawRow(line, text[:RAW_PREVIEW], error=RowError("JSON nested too deeply", None, "flatten the record"))
    if not isinstance(obj, dict):
        return RawRow(line, text, error=RowError(
            f"expected a JSON object {{...}}, got {type(obj).__name__}", None, "each line must be one record object"))
    return RawRow(line, text, obj)


def count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            n += block.count(b"\n")
    return n + 1


def jsonl_rows(path: Path, enc: str, max_line_bytes: int) -> Iterator[RawRow]:
    if enc == "utf-16":  # not splittable as bytes; such files are small exports
        text, _ = read_text(path)
        for i, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                yield parse_json_object(line.rstrip("\r"), i)
        return
    with open(path, "rb") as fh:
        line = 0
        while chunk := fh.readline(max_line_bytes + 1):
            line += 1
            if len(chunk) > max_line_bytes and not chunk.endswith(b"\n"):
                size = len(chunk)
                while more := fh.readline(1 << 20):  # skip the rest without holding it
                    size += len(more)
                    if more.endswith(b"\n"):
                        break
                preview = chunk[:RAW_PREVIEW].decode(enc, "replace") + f"... [{size} bytes]"
                yield RawRow(line, preview, error=RowError(
                    f"line is {size / 2**20:.1f} MiB, over the {max_line_bytes / 2**20:g} MiB limit", None,
                    "split the record, or raise the limit with --max-line-mb"))
                continue
            try:
                text = chunk.decode(enc)
            except UnicodeDecodeError as exc:
                yield RawRow(line, chunk.decode(enc, "backslashreplace").rstrip("\r\n"),
                             error=decode_error(chunk, enc, exc))
                continue
            if line == 1:
                text = text.removeprefix("\ufeff")
            text = text.rstrip("\r\n")
            if text.strip():
                yield parse_json_object(text, line)


def open_jsonl(path: Path, max_line_bytes: int) -> Source:
    with open(path, "rb") as fh:
        sample = fh.read(1 << 23)
    if not sample.strip():
        raise DataError("the file is empty", path=path, hint="write at least one record")
    if sample.lstrip(codecs.BOM_UTF8 + b" \t\r\n").startswith(b"["):  # a JSON array under a .jsonl name?
        try:
            source = open_json(path, max_line_bytes)
        except DataError:
            pass  # no: JSON Lines whose first record is broken; report it line by line
        else:
            source.notes.append("the file holds one JSON array; read it as .json")
            return source
    return open_jsonl_as(path, max_line_bytes)


def open_jsonl_as(path: Path, max_line_bytes: int) -> Source:
    with open(path, "rb") as fh:
        sample = fh.read(1 << 23)
        complete = not fh.read(1)
    enc = detect_encoding(sample, complete)
    return Source(path, str(path), "jsonl", enc, "line", count_lines(path),
                  jsonl_rows(path, enc, max_line_bytes))


def open_json(path: Path, max_line_bytes: int) -> Source:
    text, enc = read_text(path)
    try:
        data = json.loads(text)
    except RecursionError:
        raise DataError("JSON nested too deeply to read", path=path,
                        hint="records are objects of text fields and message lists; flatten the data") from None
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):  # JSON Lines under a .json name
            source = open_jsonl_as(path, max_line_bytes)
            source.notes.append("the file holds one JSON object per line; read it as .jsonl")
            return source
        raise DataError(f"broken JSON: {exc.msg} (column {exc.colno})", path=path, line=exc.lineno,
                        hint="fix the JSON, or write one record per line as .jsonl") from None
    if isinstance(data, dict):
        raise DataError("expected a JSON array of records, got one object", path=path, line=1,
                        hint="wrap the records in [ ... ], or write one record per line as .jsonl")
    if not isinstance(data, list):
        raise DataError(f"expected a JSON array of records, got {type(data).__name__}", path=path, line=1)
    if not data:
        raise DataError("the JSON array is empty", path=path, line=1, hint="write at least one record")
    return Source(path, str(path), "json", enc, "line", len(data), json_array_rows(text, data))


def json_array_rows(text: str, data: list[Any]) -> Iterator[RawRow]:
    """Walk the array once more to learn on which line each element starts."""
    decoder = json.JSONDecoder()
    pos, line, last = text.index("[") + 1, 1, 0
    for number, item in enumerate(data, start=1):
        while text[pos] in " \t\r\n,":
            pos += 1
        line += text.count("\n", last, pos)
        last = pos
        _, end = decoder.raw_decode(text, pos)
        raw = text[pos:end]
        pos = end
        if isinstance(item, dict):
            yield RawRow(line, raw, item, position=number)
        else:
            yield RawRow(line, raw, position=number, error=RowError(
                f"expected a record object {{...}}, got {type(item).__name__}", None,
                "every array element must be one record object"))


def open_txt(path: Path, max_line_bytes: int) -> Source:
    text, enc = read_text(path)
    lines = text.split("\n")
    return Source(path, str(path), "txt", enc, "line", len(lines), txt_rows(lines, max_line_bytes))


def txt_rows(lines: list[str], max_line_bytes: int) -> Iterator[RawRow]:
    for line_no, line in enumerate(lines, start=1):
        raw = line.rstrip("\r")
        text = raw.strip()
        if not text:
            continue
        size = len(raw.encode("utf-8", "surrogateescape")) if len(raw) * 4 > max_line_bytes else 0
        if size > max_line_bytes:
            yield RawRow(line_no, raw[:RAW_PREVIEW] + f"... [{size} bytes]", error=RowError(
                f"line is {size / 2**20:.1f} MiB, over the {max_line_bytes / 2**20:g} MiB limit", None,
                "split the instruction, or raise the limit with --max-line-mb"))
            continue
        yield RawRow(line_no, raw, {"prompt": text})


def write_jsonl(path: Path, rows: list[dict[str, Any]], encoding: str) -> None:
    oshie_jsonl.write_jsonl(path, rows, encoding=encoding)


def write_json(path: Path, rows: list[dict[str, Any]], encoding: str) -> None:
    def go(tmp: Path) -> None:
        with open(tmp, "w", encoding=encoding, newline="\n") as fh:
            fh.write(oshie_jsonl.to_json(rows, indent=1))
            fh.write("\n")
    atomic(path, go)

