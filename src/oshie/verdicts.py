"""Read a judge's verdict: a 1-5 grade, or a pairwise winner (A / B / tie).

The rule is the judge's FINAL word. Every place where a reply states a verdict is a
candidate with a position: a labelled grade ("評価: 4", "評価は1点です", "Score: 4/5",
"[[4]]"), a JSON object that ends its line ('{"score": 4}', also inside a ```json block;
one with prose after it is mentioned, not given), or a last line that is a grade alone
("1点", "**4**"). The last candidate wins, so reasoning that mentions
other scores first, and a verdict restated at the end, both read right.

What is not the judge's verdict is blanked before looking:
- quoted material: 「…」『』“…” and "…" quotes and `> ` lines (the judge quoting the
  answer: 回答には「評価: 5」とある…), except a short quote that is itself a verdict right
  after a label (判定は「A」);
- phrases that describe the scale: "1〜5", "1点から5点", "5点満点中", "5段階", "1が最低".
  A real score such as 「1点」 is never removed.

Only when no candidate exists are grades with a unit read from the prose ("…なので2点
とします"): all such mentions must agree. Anything else (two different grades at the
same rank, "4.5", a range "3〜4", out of range) is unparsable: it is retried, then counted.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata

_GRADE_LABELS = (r"(?:総合評価|最終評価|最終スコア|最終得点|評価|点数|スコア|得点|採点|"
                 r"score|rating|grade|判定)")
_SEP = r"\s*[】\]」』)）]?\s*(?:[:：=]|は|で|を|が)?\s*"
_OPEN = r"[「『【\[(（\"“]*\s*"


@functools.cache
def _grade_patterns(top: int) -> tuple[re.Pattern[str], ...]:
    """(labelled, [[x]], last line, with unit, scale phrase) for grades 1..top (top <= 10)."""
    d = f"[1-{top}]" if top <= 9 else "(?:10|[1-9])"
    unit = rf"(?:点|/\s*{top})"
    tail = rf"(?!\d)(?![.．]\d)(?:\s*{unit})?"
    return (
        re.compile(_GRADE_LABELS + _SEP + _OPEN + f"({d})" + tail, re.IGNORECASE),
        re.compile(rf"\[\[\s*({d})\s*\]\]"),
        re.compile(rf"^[\s「『【\[(（]*({d})\s*{unit}?[\s」』】\])）]*[。.]?\s*$"),
        re.compile(rf"(?<![\d.])({d})\s*{unit}(?![\d])"),
        re.compile(
            rf"{d}\s*点?\s*(?:から|〜|~|-|－|ー|to)\s*{d}\s*点?"      # 1〜5, 1点から5点, 3-4
            rf"|{d}\s*点?\s*満点(?:\s*中|\s*で)?"                       # 5点満点中
            rf"|{d}\s*段階"                                              # 5段階評価
            rf"|{d}\s*点?\s*中"                                          # 5点中
            rf"|{d}\s*点?\s*(?:が|は|=|:)?\s*(?:最低|最高|最良|最悪|満点)",  # 1が最低, 5点が最高
            re.IGNORECASE),
    )


_JSON_OBJ = re.compile(r"\{[^{}]*\}")
_GRADE_KEYS = ("score", "rating", "grade", "評価", "点数", "スコア", "得点")
_WINNER_KEYS = ("winner", "verdict", "better", "判定", "勝者")
_QUOTES = re.compile(r"「[^「」]*」|『[^『』]*』|“[^“”]*”|\"[^\"\n]*\"")
_SHORT_VERDICT = re.compile(r"^\s*(?:回答\s*)?(?:[A-Ca-c]|[1-5]\s*点?|引き分け|引分け|同等|tie|draw)\s*$",
                            re.IGNORECASE)


def _blank(text: str, start: int, end: int) -> str:
    """Replace a span with spaces (newlines kept), so positions stay where they were."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def _clean(text: str) -> str:
    """NFKC (full-width digits and colons), markdown emphasis removed, quoted material
    blanked. JSON objects are read before quotes are blanked (their keys are quoted)."""
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"[*_#]", "", t)
    t = re.sub(r"(?m)^\s*>.*$", lambda m: " " * len(m.group(0)), t)  # quoted lines
    json_spans = [m.span() for m in _JSON_OBJ.finditer(t)]
    for m in reversed(list(_QUOTES.finditer(t))):
        if any(a <= m.start() < b for a, b in json_spans):
            continue  # a key or a value of a JSON object, not a quotation
        if not _SHORT_VERDICT.match(m.group(0)[1:-1]):
            t = _blank(t, m.start(), m.end())
    return t


def _json_candidates(text: str, keys: tuple[str, ...]) -> list[tuple[int, object]]:
    """Values of `keys` in JSON objects that end their line: a JSON object with prose after
    it on the same line is mentioned in a sentence (回答の {"score": 5} は…), not a verdict."""
    found = []
    for m in _JSON_OBJ.finditer(text):
        end = text.find("\n", m.end())
        rest = text[m.end(): end if end != -1 else len(text)]
        if rest.strip(" \t。.、,`"):
            continue
        try:
            obj = json.loads(m.group(0))
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            found += [(m.start(), obj[k]) for k in keys if k in obj]
    return found


def _strip_json(text: str) -> str:
    for m in reversed(list(_JSON_OBJ.finditer(text))):
        text = _blank(text, m.start(), m.end())
    return text


def _last_line(text: str) -> tuple[int, str]:
    lines = [(m.start(), m.group(0)) for m in re.finditer(r"[^\n]+", text) if m.group(0).strip()]
    return lines[-1] if lines else (0, "")


def parse_grade(text: str, top: int = 5) -> int | None:
    """The judge's final grade on the 1-`top` scale (1-5 by default, at most 10), or None
    when it cannot be read unambiguously."""
    labelled, brackets, last_line, with_unit_rx, scale = _grade_patterns(top)
    t = _clean(text)
    candidates: list[tuple[int, int]] = []
    allowed = {str(g) for g in range(1, top + 1)}
    for pos, v in _json_candidates(t, _GRADE_KEYS):
        if isinstance(v, int | str) and str(v).strip() in allowed:
            candidates.append((pos, int(str(v).strip())))
    prose = scale.sub(lambda m: " " * len(m.group(0)), _strip_json(t))
    candidates += [(m.start(), int(m.group(1))) for m in labelled.finditer(prose)]
    candidates += [(m.start(), int(m.group(1))) for m in brackets.finditer(prose)]
    pos, line = _last_line(prose)
    if m := last_line.match(line):
        candidates.append((pos, int(m.group(1))))
    if candidates:
        return max(candidates, key=lambda c: c[0])[1]
    with_unit = {int(m.group(1)) for m in with_unit_rx.finditer(prose)}
    return with_unit.pop() if len(with_unit) == 1 else None


_TIE_WORDS = ("引き分け", "引分け", "同等", "tie", "draw", "互角")
_WINNER_LABELLED = re.compile(
    r"(?:判定|勝者|結果|winner|verdict|better)" + _SEP + _OPEN
    + r"(?:回答\s*)?(A|B|引き分け|引分け|同等|tie|draw)(?![A-Za-z])", re.IGNORECASE)
_WINNER_BRACKET = re.compile(r"\[\[\s*(A|B|C|tie)\s*\]\]", re.IGNORECASE)


def _winner_token(tok: str) -> str | None:
    """'A' / 'B' / 'tie' for a token that is exactly a verdict ("回答A", "引き分け", "C")."""
    t = re.sub(r"\s+", "", tok).lower().removeprefix("回答")
    if t == "a":
        return "A"
    if t == "b":
        return "B"
    if t == "c" or t in _TIE_WORDS:
        return "tie"
    return None


def parse_winner(text: str) -> str | None:
    """'A', 'B' or 'tie' from the judge's final verdict; None when it cannot be read."""
    t = _clean(text)
    candidates: list[tuple[int, str]] = []
    for pos, v in _json_candidates(t, _WINNER_KEYS):
        if isinstance(v, str) and (w := _winner_token(v)):
            candidates.append((pos, w))
    prose = _strip_json(t)
    for rx in (_WINNER_BRACKET, _WINNER_LABELLED):
        candidates += [(m.start(), w) for m in rx.finditer(prose) if (w := _winner_token(m.group(1)))]
    pos, line = _last_line(prose)
    bare = line.strip().strip("「」『』【】[]()").rstrip("。.").strip()
    if w := _winner_token(bare):
        candidates.append((pos, w))
    if candidates:
        return max(candidates, key=lambda c: c[0])[1]
    return None
