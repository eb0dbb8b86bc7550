"""Raw text for tokenizer training and continued pre-training.

`.txt` files give one document per non-empty line, or per blank-line-separated
paragraph with `by="paragraph"`; `.jsonl` files give the string in `text_field` of each line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from oshie.errors import DataError
from oshie.jsonl import json_lines, read_utf8

__all__ = ["JSONL_SUFFIXES", "TEXT_SUFFIXES", "iter_texts", "read_texts"]


TEXT_SUFFIXES = (".txt", ".text", ".md")
JSONL_SUFFIXES = (".jsonl", ".ndjson")


def iter_texts(
    paths: Iterable[str | Path],
    *,
    text_field: str = "text",
    by: Literal["line", "paragraph"] = "line",
) -> Iterator[str]:
    """Yield documents from text or JSONL files, in file order. A directory stands for its
    .txt/.jsonl files, recursively and sorted (e.g. the `kept/` shards of `oshie corpus mix
    --format jsonl`)."""
    for raw in _expand(paths):
        path = Path(raw)
        if not path.is_file():
            raise DataError("no such file", path=path, hint="check the corpus path")
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            yield from _jsonl_texts(path, text_field)
        elif suffix in TEXT_SUFFIXES or suffix == "":
            yield from _plain_texts(path, by)
        else:
            raise DataError(
                f"unsupported corpus file type '{suffix}'",
                path=path,
                hint="use .txt (one document per line) or .jsonl with a text field",
            )


def _expand(paths: Iterable[str | Path]) -> Iterator[Path]:
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")
                              and f.suffix.lower() in (*TEXT_SUFFIXES, *JSONL_SUFFIXES))
        else:
            yield p


def read_texts(paths: Iterable[str | Path], **kwargs) -> list[str]:
    """Every document of `iter_texts` as a list (a training corpus fits in memory)."""
    return list(iter_texts(paths, **kwargs))


def _plain_texts(path: Path, by: str) -> Iterator[str]:
    text = read_utf8(path)
    if by == "paragraph":
        for block in text.split("\n\n"):
            if block.strip():
                yield block.strip("\n")
    else:
        for line in text.splitlines():
            if line.strip():
                yield line


def _jsonl_texts(path: Path, text_field: str) -> Iterator[str]:
    for lineno, obj in json_lines(read_utf8(path), path):
        value = obj.get(text_field)
        if not isinstance(value, str):
            raise DataError(
                "missing or non-string text field",
                path=path,
                line=lineno,
                field=text_field,
                hint="set 'text_field' to the key that holds the text",
            )
        if value.strip():
            yield value
