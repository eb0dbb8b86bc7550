"""Small UTF-8 JSON Lines inputs (task files, request files, corpora), read whole, with
errors that name the file and line.

Record data goes through `oshie.data.files` instead: it also reads other encodings,
bounds line length and quarantines bad rows rather than stopping at the first.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oshie.errors import DataError


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
        if not isinstance(obj, dict):
            raise DataError("each line must be a JSON object", path=path, line=number)
        yield number, obj
