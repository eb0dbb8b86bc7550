"""JSON Lines: the one writer every module uses, and small UTF-8 inputs read whole.

Writing: `write_jsonl(path, rows)` (a whole file, replaced atomically) or
`JsonlWriter(path, mode)` (records appended as they are made, flushed on request).
Both write one compact UTF-8 object per line and never emit invalid JSON:

- NaN and ±Infinity (which `json.dumps` writes as the non-JSON tokens `NaN`/`Infinity`)
  become `null`, and the writer warns once per file how many it replaced;
- dates and times become ISO 8601 text, bytes become base64 text, Decimals their exact
  text, paths and other objects their `str()`;
- a lone surrogate (an undecodable byte kept by `surrogateescape`, a broken `\\uD8xx`)
  is written as its `\\uXXXX` escape, which is valid JSON, instead of failing the file.

Reading record data goes through `oshie.data.files` instead: it also reads other
encodings, bounds line length and quarantines bad rows rather than stopping at the first.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from oshie.errors import DataError

__all__ = ["JsonlWriter", "dumps", "json_lines", "jsonable", "read_utf8", "to_json", "write_jsonl"]


def jsonable(value: Any) -> Any:
    """A JSON-safe stand-in for a value `json` cannot write (used as `default=`)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def _finite(obj: Any, replaced: list[int]) -> Any:
    """`obj` with every NaN/Infinity float replaced by None (counted in `replaced[0]`)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        replaced[0] += 1
        return None
    if isinstance(obj, dict):
        return {k: _finite(v, replaced) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v, replaced) for v in obj]
    return obj


def _dumps(obj: Any, replaced: list[int], indent: int | None = None) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False, default=jsonable, indent=indent)
    except ValueError:  # a NaN/Infinity somewhere: rare, so the fast path stays fast
        return json.dumps(_finite(obj, replaced), ensure_ascii=False, allow_nan=False, default=jsonable,
                          indent=indent)


def dumps(obj: Any) -> str:
    """One JSON line (no newline) by the writer's rules (non-finite numbers -> null)."""
    return _dumps(obj, [0])


def to_json(obj: Any, indent: int | None = 2) -> str:
    """A whole JSON document (manifests, summaries, .json exports) by the same rules, so no
    file oshie writes holds the non-JSON tokens NaN or Infinity."""
    return _dumps(obj, [0], indent)


class JsonlWriter:
    """Append objects to a JSON Lines file, one per line (`mode` "w" truncates, "a" appends).

    Use as a context manager; `flush()` after each record when a kill must not lose it.
    """

    def __init__(self, path: str | Path, mode: str = "w", *, encoding: str = "utf-8") -> None:
        if mode not in ("w", "a"):
            raise ValueError("mode is 'w' or 'a'")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self._replaced = [0]
        # backslashreplace: a lone surrogate becomes its \uXXXX escape, still valid JSON
        self._fh: IO[str] = open(self.path, mode, encoding=encoding, errors="backslashreplace", newline="\n")

    def write(self, obj: Any) -> None:
        self._fh.write(_dumps(obj, self._replaced))
        self._fh.write("\n")
        self.count += 1

    def write_all(self, rows: Iterable[Any]) -> int:
        for row in rows:
            self.write(row)
        return self.count

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        if self._fh.closed:
            return
        self._fh.close()
        if self._replaced[0]:
            from oshie.console import warn

            warn(f"{self.path}: {self._replaced[0]} NaN/Infinity values written as null (JSON has no such numbers)")

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def write_jsonl(path: str | Path, rows: Iterable[Any], *, encoding: str = "utf-8") -> int:
    """Write `rows` as the whole file, atomically (a reader never sees half a file).
    Returns the number of lines written."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        with JsonlWriter(tmp, encoding=encoding) as writer:
            writer.write_all(rows)
            writer.path = p  # the warning names the real file
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return writer.count


def read_utf8(path: Path) -> str:
    """The file's text (a UTF-8 BOM is dropped); a missing or undecodable file is a DataError."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DataError("no such file", path=path) from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path,
                        hint="save the file as UTF-8") from exc


def json_lines(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of `text`, read from `path`.

    Lines end at \\n, \\r\\n or \\r only: `str.splitlines` would also cut at U+2028 and
    U+0085, which `json.dumps(..., ensure_ascii=False)` leaves raw inside strings.
    """
    for number, line in enumerate(io.StringIO(text, newline=None), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", path=path, line=number) from exc
        except RecursionError:
            raise DataError("JSON nested too deeply", path=path, line=number,
                            hint="flatten the object") from None
        if not isinstance(obj, dict):
            raise DataError("each line must be a JSON object", path=path, line=number)
        yield number, obj
