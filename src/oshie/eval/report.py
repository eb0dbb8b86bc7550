"""report.html for eval runs (metrics with CIs, then a sample of per-item records)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oshie import __version__
from oshie.report.html import render

SAMPLE_ITEMS = 20


def _short(text: Any, n: int = 300) -> str:
    s = text if isinstance(text, str) else str(text)
    return s if len(s) <= n else "…" + s[-n:]


def write_eval_report(
    path: Path,
    results: dict[str, dict[str, dict[str, Any]]],
    details: dict[str, Any],
    model: str,
    title: str = "oshie eval",
    extra_sections: list[dict[str, Any]] | None = None,
) -> Path:
    samples = {}
    for key, d in details.items():
        rows = []
        for r in d.get("records", [])[:SAMPLE_ITEMS]:
            if "choices" in r:
                out = r["choices"][r["pred"]]
                gold = r["choices"][r["gold"]]
            else:
                out, gold = r.get("output", ""), r.get("gold", "")
            rows.append({"id": r["id"], "prompt": _short(r.get("prompt", "")), "output": out,
                         "gold": gold if isinstance(gold, str) else " / ".join(map(str, gold)),
                         "correct": r.get("correct")})
        samples[key] = rows
    return render("eval_report.html.j2", path, title=title, version=__version__, model=model,
                  results=results, details=details, samples=samples,
                  sections=extra_sections or [])
