"""Precision and recall of every check on the planted-defect set, and false alarms on clean data.

`data/planted.jsonl` (made by make_planted.py) labels each record with the checks it must
trigger; clean records include risky look-alikes (code terms, a justified refusal, numbers
that are not PII ...). A second, independent set ships with oshie: resources/instructions/
flawed.jsonl and clean.jsonl, labelled with their own defect names.
"""

from __future__ import annotations

from collections import Counter
from importlib import resources

import pytest

from oshie.data.check import REGISTRY, check_records, iter_checks
from oshie.data.check.base import text_fields
from oshie.data.io import load_records

FLOOR = 0.9
# Checks written after this set; their labelled cases are in bench/data/audit_bench.jsonl
# (bench/audit_precision.py) and their unit tests in test_mt_defects.py.
LATER_CHECKS = {"collapsed_translation", "translated_placeholder", "translation_framing", "junk_answer",
                "lost_label_colon", "word_limit_as_chars", "wiki_debris", "missing_task", "imperial_units",
                "duplicate_id", "llm_judge"}
# Planted records whose defect a later, more specific check now names: an answer four times
# the "20文字以内" it was asked for is what an "N words" -> N字 translation looks like, and
# "二マイル" is reported by imperial_units instead of foreign_culture.
ALSO_RIGHT = {"answer_too_long": {"word_limit_as_chars"}, "foreign_culture": {"imperial_units"}}




@pytest.fixture(scope="module")
def planted_result(planted, eval_files):
    return check_records(planted, eval_sets=eval_files)


def scores(records, result, label_of):
    by = result.by_record()
    tp, fn, fp = Counter(), Counter(), Counter()
    for i, r in enumerate(records):
        want, got = label_of(r), {f.check for f in by.get(i, [])}
        for c in want:
            (tp if c in got or got & ALSO_RIGHT.get(c, set()) else fn)[c] += 1
        for c in got - want - {extra for w in want for extra in ALSO_RIGHT.get(w, ())}:
            fp[c] += 1
    return tp, fn, fp


def test_planted_set_covers_every_check(planted):
    labels = Counter(c for r in planted for c in r.metadata.model_extra["planted"])
    assert len(planted) >= 200
    for cls in iter_checks():
        if cls.code in LATER_CHECKS:
            continue
        assert labels[cls.code] >= 7, f"{cls.code} planted only {labels[cls.code]} times"
    clean = [r for r in planted if not r.metadata.model_extra["planted"]]
    assert sum(1 for r in clean if r.metadata.model_extra.get("risky")) >= 30


def test_precision_and_recall_per_check(planted, planted_result):
    tp, fn, fp = scores(planted, planted_result, lambda r: set(r.metadata.model_extra["planted"]))
    report = []
    for code in sorted(REGISTRY):
        n = tp[code] + fn[code]
        recall = tp[code] / n if n else 1.0
        precision = tp[code] / (tp[code] + fp[code]) if tp[code] + fp[code] else 1.0
        report.append(f"{code}: P={precision:.2f} R={recall:.2f} (tp {tp[code]}, fn {fn[code]}, fp {fp[code]})")
    print("\n".join(report))
    for code in REGISTRY:
        n = tp[code] + fn[code]
        assert n == 0 or tp[code] / n >= FLOOR, report
        assert tp[code] + fp[code] == 0 or tp[code] / (tp[code] + fp[code]) >= FLOOR, report


def test_few_false_alarms_on_clean_and_risky_records(planted, planted_result):
    by = planted_result.by_record()
    clean = [i for i, r in enumerate(planted) if not r.metadata.model_extra["planted"]]
    flagged = [planted[i].id for i in clean if i in by]
    assert len(flagged) <= 0.05 * len(clean), flagged


def test_findings_point_at_the_offending_text(planted, planted_result):
    records = {i: r for i, r in enumerate(planted)}
    for f in planted_result.findings:
        if f.span is None:
            continue
        fields = {tf.path: tf.text for tf in text_fields(records[f.index])}
        assert fields[f.span.field][f.span.start : f.span.end] == f.span.text
    pii = [f for f in planted_result.findings if f.check == "pii"]
    assert any("@" in f.span.text for f in pii) and all(f.span.text.strip() for f in pii)


# the shipped sample sets use their own defect names
SAMPLE_LABELS = {
    "untranslated_english": "untranslated_english", "foreign_culture": "foreign_culture",
    "alphabetical_sort": "foreign_language_task", "english_rhyme": "foreign_language_task",
    "english_grammar": "foreign_language_task", "translation_note": "translation_note",
    "boilerplate": "ai_boilerplate", "unneeded_refusal": "unjustified_refusal",
    "repeats_instruction": "answer_repeats_instruction", "mixed_style": "mixed_speech_style",
    "duplicate": "duplicate", "near_duplicate": "duplicate",
}


def _sample(name: str):
    return load_records(str(resources.files("oshie").joinpath(f"resources/instructions/{name}.jsonl")))


def test_recall_on_the_shipped_flawed_sample():
    records = _sample("flawed")
    result = check_records(records)
    tp, fn, _ = scores(records, result, lambda r: {SAMPLE_LABELS[p] for p in r.metadata.model_extra.get("planted", [])})
    for code in set(SAMPLE_LABELS.values()):
        assert tp[code] / (tp[code] + fn[code]) >= FLOOR, (code, tp[code], fn[code])


def test_no_false_alarms_on_the_shipped_clean_sample():
    records = _sample("clean")
    result = check_records(records)
    flagged = {records[f.index].id: f.message for f in result.findings}
    assert len(flagged) <= 0.02 * len(records), flagged
