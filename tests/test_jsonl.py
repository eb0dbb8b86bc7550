"""The shared JSON Lines reader used by eval task files, LLM request files and CPT corpora."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oshie.errors import DataError
from oshie.jsonl import json_lines, read_utf8
from oshie.llm.batch import read_requests
from oshie.train.corpus import read_texts


def test_lines_end_only_at_newlines(tmp_path: Path) -> None:
    # json.dumps(ensure_ascii=False) leaves U+2028 / U+0085 raw: they must not split a record
    first = json.dumps({"id": "a", "text": "一行目\u2028続き\x85終わり", "prompt": "p"}, ensure_ascii=False)
    path = tmp_path / "x.jsonl"
    path.write_text(f"\ufeff{first}\r\n\n{json.dumps({'text': '二', 'prompt': 'q'})}\n", encoding="utf-8")
    rows = list(json_lines(read_utf8(path), path))
    assert [n for n, _ in rows] == [1, 3]
    assert rows[0][1]["text"] == "一行目\u2028続き\x85終わり"
    assert read_texts([path]) == ["一行目\u2028続き\x85終わり", "二"]
    assert [rid for rid, _ in read_requests(path)] == ["a", "line3"]


@pytest.mark.parametrize(("body", "line", "message"), [
    ('{"a": 1}\n{"a": \n', 2, "invalid JSON"),
    ('{"a": 1}\n\n["a"]\n', 3, "each line must be a JSON object"),
])
def test_bad_line_is_named(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DataError, match=message) as err:
        list(json_lines(read_utf8(path), path))
    assert err.value.line == line and "bad.jsonl" in err.value.render()


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_utf8(tmp_path / "missing.jsonl")
    cp932 = tmp_path / "cp932.jsonl"
    cp932.write_bytes('{"text": "日本語"}\n'.encode("cp932"))
    with pytest.raises(DataError, match="not UTF-8 text") as err:
        read_utf8(cp932)
    assert "UTF-8" in (err.value.hint or "")


def test_json_documents_never_hold_nan_or_infinity(tmp_path) -> None:
    import json as _json
    import math

    from oshie.runs import write_json

    path = tmp_path / "manifest.json"
    write_json(path, {"loss": math.nan, "tokens_per_second": math.inf, "ok": 1.5})
    strict = _json.loads(path.read_text("utf-8"), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert strict == {"loss": None, "tokens_per_second": None, "ok": 1.5}
