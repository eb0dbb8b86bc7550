"""The review sheet (--sample / --score-review) and the bounded-memory duplicate index."""

from __future__ import annotations

import openpyxl
import pytest

from oshie.data.check import check_records
from oshie.data.check.review import COLUMNS, score_review, wilson, write_review_sheet
from oshie.data.dedup import DedupConfig, find_duplicates
from oshie.data.dedup_index import StreamingDedup
from oshie.errors import DataError


def test_sample_mark_and_score(planted, tmp_path):
    result = check_records(planted[:120])
    sheet = tmp_path / "review.xlsx"
    n = write_review_sheet(result.findings, sheet, per_check=2, seed=1)
    wb = openpyxl.load_workbook(sheet)
    ws = wb.active
    assert [c.value for c in ws[1]] == list(COLUMNS) and ws.max_row == n + 1
    checks = [row[0].value for row in ws.iter_rows(min_row=2)]
    assert max(checks.count(c) for c in set(checks)) <= 2
    cue = ws.cell(2, COLUMNS.index("cue") + 1)
    assert cue.fill.fgColor.rgb.endswith("FFE08A")
    marks = {}
    for i, row in enumerate(ws.iter_rows(min_row=2)):
        mark = "正" if i % 3 else "誤"
        row[COLUMNS.index("判定 (正/誤)")].value = mark
        marks.setdefault(row[0].value, []).append(mark)
    wb.save(sheet)
    scores = score_review(sheet)
    for code, ms in marks.items():
        assert scores[code]["right"] == ms.count("正") and scores[code]["wrong"] == ms.count("誤")
        assert scores[code]["precision"] == round(ms.count("正") / len(ms), 3)
    assert (tmp_path / "precision.json").is_file()


def test_a_mark_that_is_neither_right_nor_wrong_names_its_row(planted, tmp_path):
    sheet = tmp_path / "review.xlsx"
    write_review_sheet(check_records(planted[:40]).findings, sheet, per_check=1)
    wb = openpyxl.load_workbook(sheet)
    wb.active.cell(3, COLUMNS.index("判定 (正/誤)") + 1).value = "たぶん"
    wb.save(sheet)
    with pytest.raises(DataError, match="neither right nor wrong") as exc:
        score_review(sheet)
    assert exc.value.line == 3


def test_wilson_interval():
    lo, hi = wilson(9, 10)
    assert 0.55 < lo < 0.6 and 0.98 < hi <= 1.0
    assert wilson(0, 0) == (0.0, 1.0)


def test_streaming_index_finds_the_same_clusters_as_the_in_memory_one(planted):
    texts = ["\n".join(m.content for m in r.messages) for r in planted] * 2  # every record twice: exact copies
    texts += [t.replace("。", "．") for t in texts[:50]]  # and near copies
    cfg = DedupConfig(ignore_punctuation=False)
    expected = find_duplicates(texts, cfg)
    index = StreamingDedup(cfg, chunk=64)  # many chunks, so chunk borders are crossed
    for t in texts:
        index.add(t)
    got = index.result()
    assert {tuple(c.members) for c in got.clusters} == {tuple(c.members) for c in expected.clusters}
    assert {c.kind for c in got.clusters} == {"exact", "near"}
    assert index.nbytes() < 250 * len(texts)  # bytes per record kept in memory
    index.close()
