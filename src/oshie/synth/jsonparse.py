"""Pull a JSON object or array out of an LLM's answer, however it is wrapped.

Models add prose, code fences, full-width brackets or trailing commas around the JSON
they were asked for. `find_json` tries the answer as is, then every `{` / `[` position
in turn with a tolerant decode, and returns the first value of the wanted type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_FULLWIDTH = str.maketrans({"｛": "{", "｝": "}", "［": "[", "］": "]", "：": ":", "，": ",",
                            "＂": '"', "“": '"', "”": '"',
                            **{chr(0xFF10 + d): str(d) for d in range(10)}})


def _candidates(text: str) -> list[str]:
    out = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    fixed = [_TRAILING_COMMA.sub(r"\1", t) for t in out]
    wide = [_TRAILING_COMMA.sub(r"\1", t.translate(_FULLWIDTH)) for t in out]
    return out + fixed + wide


def find_json(
    text: str, want: type = dict, accept: Callable[[Any], bool] | None = None
) -> Any | None:
    """The first JSON value of type `want` (dict or list) in `text` that `accept`s, or None."""
    def ok(value: Any) -> bool:
        return isinstance(value, want) and (accept is None or accept(value))

    decoder = json.JSONDecoder()
    opener = "{" if want is dict else "["
    for cand in _candidates(text or ""):
        stripped = cand.strip()
        try:
            value = json.loads(stripped)
            if ok(value):
                return value
        except ValueError:
            pass
        start = stripped.find(opener)
        while start != -1:
            try:
                value, _ = decoder.raw_decode(stripped, start)
                if ok(value):
                    return value
            except ValueError:
                pass
            start = stripped.find(opener, start + 1)
    return None
