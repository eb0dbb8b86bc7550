"""A review sheet for estimating each check's precision on *your* data.

`oshie data check --sample N` writes `review.xlsx`: up to N findings per check, drawn at
random (seeded), each with its cue between the text before and after it and an empty
「判定」 column. A person marks each row 正 (the finding is right) or 誤 (it is a false
alarm); `oshie data check --score-review review.xlsx` turns the marks into per-check
precision with a 95% interval, written beside the sheet as `precision.json`, which the
audit's report shows the next time it is written into that directory.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oshie.data.check.base import Finding
from oshie.errors import DataError

COLUMNS = ("check", "severity", "record_id", "source", "field", "before", "cue", "after", "message",
           "判定 (正/誤)", "メモ / note")
RIGHT = {"正", "○", "o", "right", "yes", "y", "1", "true", "ok", "tp"}
WRONG = {"誤", "×", "x", "wrong", "no", "n", "0", "false", "ng", "fp"}


def sample_findings(findings: Sequence[Finding], per_check: int, seed: int = 0) -> list[Finding]:
    """Up to `per_check` findings of each check, drawn at random, in check then record order."""
    by: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by[f.check].append(f)
    rng = random.Random(seed)
    out = []
    for code in sorted(by):
        picked = by[code] if len(by[code]) <= per_check else rng.sample(by[code], per_check)
        out += sorted(picked, key=lambda f: f.index)
    return out


def write_review_sheet(findings: Sequence[Finding], path: str | Path, per_check: int, seed: int = 0) -> int:
    """Write the review sheet; returns the number of rows."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "review"
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    rows = sample_findings(findings, per_check, seed)
    cue_fill = PatternFill("solid", fgColor="FFE08A")
    for f in rows:
        ctx = f.context or {}
        ws.append([f.check, f.severity, f.record_id, f.source or "", f.span.field if f.span else "",
                   ctx.get("before", ""), f.span.text if f.span else "", ctx.get("after", ""), f.message, "", ""])
        ws.cell(ws.max_row, COLUMNS.index("cue") + 1).fill = cue_fill
    for col, width in zip("ABCDEFGHIJK", (22, 9, 14, 14, 18, 40, 30, 40, 50, 12, 30), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    wb.save(path)
    return len(rows)


def wilson(right: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (sound for small samples, unlike p ± 2se)."""
    if n == 0:
        return 0.0, 1.0
    p = right / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def score_review(path: str | Path) -> dict[str, dict[str, Any]]:
    """Per-check precision from a marked review sheet; also written to precision.json beside it.
    A mark that is neither right nor wrong is an error naming its row."""
    import openpyxl

    p = Path(path)
    if not p.is_file():
        raise DataError("review sheet not found", path=p, hint="make one with oshie data check --sample N")
    ws = openpyxl.load_workbook(p, read_only=True, data_only=True).active
    rows = ws.iter_rows(values_only=True)
    header = [str(h or "") for h in next(rows, ())]
    try:
        check_col, mark_col = header.index("check"), header.index(COLUMNS[9])
    except ValueError:
        raise DataError("not an oshie review sheet (no 'check' and '判定' columns)", path=p,
                        hint="score the review.xlsx that --sample wrote") from None
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # right, wrong, unmarked
    for number, row in enumerate(rows, start=2):
        code = str(row[check_col] or "")
        if not code:
            continue
        mark = str(row[mark_col] or "").strip().lower()
        if not mark:
            counts[code][2] += 1
        elif mark in RIGHT:
            counts[code][0] += 1
        elif mark in WRONG:
            counts[code][1] += 1
        else:
            raise DataError(f"mark {row[mark_col]!r} is neither right nor wrong", path=p, line=number,
                            field=COLUMNS[9], hint="write 正 (right) or 誤 (wrong), or leave it empty")
    scores = {}
    for code, (right, wrong, unmarked) in sorted(counts.items()):
        n = right + wrong
        lo, hi = wilson(right, n)
        scores[code] = {"right": right, "wrong": wrong, "unmarked": unmarked,
                        "precision": round(right / n, 3) if n else None, "ci95": [round(lo, 3), round(hi, 3)]}
    (p.parent / "precision.json").write_text(json.dumps(scores, ensure_ascii=False, indent=2), "utf-8")
    return scores
