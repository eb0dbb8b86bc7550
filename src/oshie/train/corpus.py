"""Raw text for tokenizer training and continued pre-training.

`.txt` files give one document per non-empty line, or per blank-line-separated
paragraph with `by="paragraph"`; `.jsonl` files give the string in `text_field` of each line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from oshie.errors import DataError

TEXT_SUFFIXES = (".txt", ".text", ".md")
JSONL_SUFFIXES = (".jsonl", ".ndjson")


def iter_texts(
    paths: Iterable[str | Path],
    *,
    text_field: str = "text",
    by: Literal["line", "paragraph"] = "line",
) -> Iterator[str]:
    """Yield documents from text or JSONL files, in file order."""
    for raw in paths:
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


def read_texts(paths: Iterable[str | Path], **kwargs) -> list[str]:
    return list(iter_texts(paths, **kwargs))


def _read_utf8(path: Path) -> str:
    try:
        return path.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from exc


def _plain_texts(path: Path, by: str) -> Iterator[str]:
    text = _read_utf8(path)
    if by == "paragraph":
        for block in text.split("\n\n"):
            if block.strip():
                yield block.strip("\n")
    else:
        for line in text.splitlines():
            if line.strip():
                yield line


def _jsonl_texts(path: Path, text_field: str) -> Iterator[str]:
    for lineno, line in enumerate(_read_utf8(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", path=path, line=lineno) from exc
        value = obj.get(text_field) if isinstance(obj, dict) else None
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
