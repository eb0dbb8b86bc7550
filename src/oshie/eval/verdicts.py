"""Parse judge verdicts robustly: a 1-5 grade, or a pairwise winner (A / B / tie).

Accepted grade shapes include "4", "4点", "評価: 4", "**評価**: 4/5", "Score: 4",
'{"score": 4}' and full-width digits. Anything ambiguous (two different labelled grades
on the last line, "4.5", out of range) is unparsable: it is retried and then counted.
"""

from __future__ import annotations

import json
import re
import unicodedata

_LABELS = r"(?:評価|点数|スコア|得点|採点|score|rating|grade|判定)"
_GRADE_LABELLED = re.compile(_LABELS + r"\s*[:：=は]?\s*([1-5])(?![\d.])(?:\s*(?:点|/\s*5))?",
                             re.IGNORECASE)
_GRADE_BARE = re.compile(r"^\s*([1-5])\s*(?:点|/\s*5)?\s*[。.]?\s*$")
_GRADE_WITH_UNIT = re.compile(r"(?<![\d.])([1-5])\s*(?:点|/\s*5)(?![\d])")
_SCALE_PHRASES = re.compile(r"[1-5]\s*[〜~-]\s*5|5\s*(?:点満点|段階)(?:中|で)?|1\s*(?:点|から)")
_JSON_OBJ = re.compile(r"\{[^{}]*\}")
_GRADE_KEYS = ("score", "rating", "grade", "評価", "点数", "スコア")
_WINNER_KEYS = ("winner", "verdict", "better", "判定", "勝者")


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[*_#`]", "", text)


def _json_values(text: str, keys: tuple[str, ...]) -> list:
    found = []
    for m in _JSON_OBJ.finditer(text):
        try:
            obj = json.loads(m.group(0))
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            found += [obj[k] for k in keys if k in obj]
    return found


def parse_grade(text: str) -> int | None:
    t = _clean(text)
    for v in reversed(_json_values(t, _GRADE_KEYS)):
        if isinstance(v, int | str) and str(v).strip() in {"1", "2", "3", "4", "5"}:
            return int(str(v).strip())
    if m := _GRADE_BARE.match(t):
        return int(m.group(1))
    t = _SCALE_PHRASES.sub(" ", t)  # "1〜5の整数", "5点満点中" describe the scale, not a grade
    labelled = [int(m.group(1)) for m in _GRADE_LABELLED.finditer(t)]
    if labelled:
        return labelled[-1]  # the judge's final word (reasoning comes first)
    with_unit = {int(m.group(1)) for m in _GRADE_WITH_UNIT.finditer(t)}
    if len(with_unit) == 1:
        return with_unit.pop()
    return None


_TIE_WORDS = ("引き分け", "引分け", "同等", "tie", "draw", "互角")
_WINNER_LABELLED = re.compile(
    r"(?:判定|勝者|結果|winner|verdict|better)\s*[:：は=]?\s*(?:回答\s*)?\[*\s*(A|B|引き分け|引分け|同等|tie|draw)(?![A-Za-z])",
    re.IGNORECASE)
_WINNER_BRACKET = re.compile(r"\[\[\s*(A|B|C|tie)\s*\]\]", re.IGNORECASE)


def _winner_token(tok: str) -> str | None:
    t = tok.strip().lower()
    if t in ("a", "回答a"):
        return "A"
    if t in ("b", "回答b"):
        return "B"
    if t in ("c",) or any(w in t for w in _TIE_WORDS):
        return "tie"
    return None


def parse_winner(text: str) -> str | None:
    """'A', 'B' or 'tie'; None when the verdict cannot be read unambiguously."""
    t = _clean(text)
    for v in reversed(_json_values(t, _WINNER_KEYS)):
        if isinstance(v, str) and (w := _winner_token(v)):
            return w
    stripped = t.strip().rstrip("。.")
    if w := _winner_token(stripped.removeprefix("回答").strip()):
        return w
    brackets = [_winner_token(m.group(1)) for m in _WINNER_BRACKET.finditer(t)]
    if brackets:
        return brackets[-1]
    labelled = [_winner_token(m.group(1)) for m in _WINNER_LABELLED.finditer(t)]
    labelled = [w for w in labelled if w]
    if labelled:
        return labelled[-1]
    return None
