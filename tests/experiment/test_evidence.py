"""Report honesty on fixed per-item tables: chance/majority lines, the one-answer warning
(and its near miss), sample outputs side by side, the response audit of generated answers."""

from __future__ import annotations

from oshie.eval.metrics.paired import compare, mark_holm
from oshie.eval.response_audit import audit_outputs
from oshie.experiment.compare import Comparison
from oshie.experiment.evidence import (
    choice_baselines,
    mechanism_notes,
    one_answer_warnings,
    sample_outputs,
)
from oshie.experiment.plan import Row

LABELS = ["ポジティブ", "ネガティブ"]


def _label_records(preds: list[int], golds: list[int]) -> list[dict]:
    return [
        {"id": str(i), "choices": LABELS, "pred": p, "gold": g}
        for i, (p, g) in enumerate(zip(preds, golds, strict=True))
    ]


def test_chance_and_majority_lines_from_the_items() -> None:
    golds = [0] * 7 + [1] * 3
    recs = _label_records([0] * 10, golds)
    mc = [{"id": "q", "choices": list("abcde"), "gold": 2, "pred": 0}] * 4
    b = choice_baselines({"eval/m/base": {"marc_ja": recs, "jcommonsenseqa": mc}})
    # two labels -> chance 1/2; 7 of 10 golds are ポジティブ -> majority 0.7
    assert b["marc_ja"] == {"chance": 0.5, "majority": 0.7, "majority_label": "ポジティブ"}
    assert b["jcommonsenseqa"]["chance"] == 0.2  # five choices


def test_one_answer_warning_at_90_percent_and_not_at_89() -> None:
    rows = [Row("m", "flat", "eval/m/flat", None, "x"), Row("m", "ok", "eval/m/ok", None, "x")]
    # 90 of 100 answers ポジティブ: warned; 89 of 100: a near miss, not warned
    flat = _label_records([0] * 90 + [1] * 10, [0] * 100)
    ok = _label_records([0] * 89 + [1] * 11, [0] * 100)
    items = {"eval/m/flat": {"marc_ja": flat}, "eval/m/ok": {"marc_ja": ok}}
    warnings = one_answer_warnings(rows, items)
    assert [(w["variant"], w["answer"], w["share"]) for w in warnings] == [
        ("flat", "ポジティブ", 0.9)
    ]


def test_sample_outputs_line_up_every_row_by_item_id() -> None:
    rows = [Row("m", v, f"eval/m/{v}", None, "x") for v in ("base", "a")]
    gen = {
        "eval/m/base": {"summarization": [{"id": "1", "output": "x1", "gold": ["g1"], "prompt": "p"},
                                          {"id": "2", "output": "x2", "gold": ["g2"], "prompt": "p"}]},
        "eval/m/a": {"summarization": [{"id": "2", "output": "y2"}, {"id": "1", "output": "y1"}]},
    }
    samples = sample_outputs(rows, gen, k=2)
    assert [s["outputs"] for s in samples] == [
        {"m/base": "x1", "m/a": "y1"},
        {"m/base": "x2", "m/a": "y2"},
    ]
    assert samples[0]["reference"] == "g1"


def test_response_audit_flags_latin_garbage_but_not_a_plain_japanese_answer() -> None:
    answers = [
        ("summarization", "1", "次の文章を要約してください。", "Aeeee eeeee eeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"),
        ("summarization", "2", "次の文章を要約してください。", "公民館で毎週、無料の将棋教室が開かれている。"),
        # near miss: one English loanword in a Japanese answer is not a low Japanese ratio
        ("summarization", "3", "次の文章を要約してください。", "市の図書館が、新しいWebサイトで本の予約を受け付け始めた。"),
    ]
    items, metrics = audit_outputs(answers)
    flags = {it["id"]: it for it in items}
    assert flags["summarization/1"]["any_defect"] == 1
    assert flags["summarization/2"]["any_defect"] == 0
    assert flags["summarization/3"]["low_japanese_ratio"] == 0
    assert metrics["any_defect_rate"]["value"] == 1 / 3
    assert "duplicate" not in items[0]  # dataset-level checks judge prompts too: left out


def test_mechanism_note_sets_answer_rates_beside_training_data_rates() -> None:
    res = compare([0] * 10, [1] * 9 + [0], metric="response_audit/low_japanese_ratio_rate",
                  lower_is_better=True)
    mark_holm([res])
    notes = mechanism_notes(
        [Comparison("tiny", "clean", "flawed", res)],
        {"clean": {"records": 100, "by_check": {}},
         "flawed": {"records": 150, "by_check": {"low_japanese_ratio": 30}}},
    )
    assert len(notes) == 1
    assert "tiny/flawed writes answers flagged low_japanese_ratio 90%" in notes[0]
    assert "30/150 records (20%)" in notes[0] and "0/100 records (0%)" in notes[0]


def test_mechanism_note_does_not_blame_training_data_that_lack_the_defect() -> None:
    # near miss: a significant difference in loops, but neither training set has loops
    res = compare([0] * 10, [1] * 9 + [0], metric="response_audit/repeated_ngrams_rate",
                  lower_is_better=True)
    mark_holm([res])
    audits = {v: {"records": 100, "by_check": {}} for v in ("clean", "small")}
    notes = mechanism_notes([Comparison("tiny", "clean", "small", res)], audits)
    assert "not copied from them" in notes[0] and "reproduces" not in notes[0]
