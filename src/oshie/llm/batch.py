"""Run a JSONL file of requests through an LLM into a run directory (`oshie llm generate`).

Input, one JSON object per line:
  {"id": "q1", "messages": [{"role": "user", "content": "..."}], "system": "optional",
   "params": {"max_tokens": 256, "temperature": 0.7, "seed": 1}, "n": 1}
  {"id": "q2", "prompt": "raw completion prompt"}
Output `generations.jsonl`: {"id", "sample_index", "text", "finish_reason", "usage", "cached"}
per sample, plus `manifest.json`. With a cache, a rerun (or a run resumed after a crash)
only calls the model for what is still missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from oshie.errors import DataError
from oshie.jsonl import json_lines, read_utf8, write_jsonl
from oshie.llm.base import LLM, GenerationParams, LLMRequest
from oshie.runs import Manifest


@dataclass
class BatchResult:
    out_dir: Path
    requests: int
    samples: int
    hits: int | None
    misses: int | None


def read_requests(
    path: str | Path, defaults: GenerationParams | None = None
) -> list[tuple[str, LLMRequest]]:
    """(id, request) pairs from a requests JSONL file; DataError names the line and field."""
    p = Path(path)
    out: list[tuple[str, LLMRequest]] = []
    base = (defaults or GenerationParams()).model_dump()
    for number, row in json_lines(read_utf8(p), p):
        rid = str(row.get("id", f"line{number}"))
        messages = row.get("messages")
        if messages is not None and row.get("system"):
            messages = [{"role": "system", "content": row["system"]}, *messages]
        n = row.get("n", 1)
        if not isinstance(n, int) or n < 1:
            raise DataError("'n' must be a positive integer", path=p, line=number, field="n")
        try:
            params = GenerationParams(**{**base, **(row.get("params") or {})})
        except (ValidationError, TypeError) as exc:  # NaN temperature, seed beyond int64 ...
            err = exc.errors()[0] if isinstance(exc, ValidationError) else {"loc": (), "msg": str(exc)}
            field = ".".join(["params", *(str(x) for x in err["loc"])])
            raise DataError(err["msg"], path=p, line=number, field=field) from None
        try:
            reqs = [
                LLMRequest(
                    messages=messages, prompt=row.get("prompt"), params=params, sample_index=j
                )
                for j in range(n)
            ]
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(x) for x in err["loc"]) or None
            raise DataError(
                err["msg"].removeprefix("Value error, "),
                path=p,
                line=number,
                field=field,
                hint="give 'messages' (a list of {role, content}) or 'prompt'",
            ) from exc
        out.extend((rid, r) for r in reqs)
    return out


def run_batch(
    llm: LLM,
    in_path: str | Path,
    out_dir: str | Path,
    defaults: GenerationParams | None = None,
    config: Any = None,
) -> BatchResult:
    """Generate every request of `in_path`; write generations.jsonl and manifest.json."""
    out = Path(out_dir)
    manifest = Manifest(out, "llm.generate", config)
    manifest.add_input("requests", in_path)
    pairs = read_requests(in_path, defaults)
    gens = llm.generate([r for _, r in pairs], desc="generating")
    write_jsonl(out / "generations.jsonl", (
        {"id": rid, "sample_index": req.sample_index, "text": gen.text, "finish_reason": gen.finish_reason,
         "usage": gen.usage.model_dump(), "cached": gen.cached}
        for (rid, req), gen in zip(pairs, gens, strict=True)))
    hits = getattr(llm, "hits", None)
    misses = getattr(llm, "misses", None)
    manifest.write(
        llm=llm.identity(),
        requests=len({rid for rid, _ in pairs}),
        samples=len(pairs),
        cache={"hits": hits, "misses": misses},
    )
    return BatchResult(out, len({rid for rid, _ in pairs}), len(pairs), hits, misses)
