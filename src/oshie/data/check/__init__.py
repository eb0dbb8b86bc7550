"""The instruction-data quality audit behind `oshie data check`.

Each check is a small class (code, severity and family in its class statement, its docstring
as description, `apply(record) -> list[Finding]` with the offending span; most write only
`inspect`, the test of one turn, text or answer: see `base.Check`), one module per family:

    fields         empty_field
    length         answer_too_short, answer_too_long, answer_repeats_instruction
    translation    untranslated_english, foreign_language_task, foreign_culture,
                   translation_note, low_japanese_ratio
    fluency        repeated_ngrams, repeated_lines, mixed_speech_style, broken_markdown
    refusal        ai_boilerplate, unjustified_refusal, over_cautious
    ngwords        ng_word (editable lists in resources/ngwords)
    pii            pii (e-mail, phone, postal code, My Number, card number)
    duplicates     duplicate (MinHash LSH, within and across datasets)
    contamination  contamination (n-gram containment of evaluation sets)

`check_records(records, config)` runs them (a `Pipeline`) and returns a `CheckResult`.
"""

from oshie.data.check.base import (
    REGISTRY,
    Check,
    DatasetCheck,
    Finding,
    Span,
    iter_checks,
    register,
)
from oshie.data.check.config import CheckConfig, load_check_config
from oshie.data.check.pipeline import CheckResult, CheckStats, Pipeline, check_records

__all__ = [
    "REGISTRY",
    "Check",
    "CheckConfig",
    "CheckResult",
    "CheckStats",
    "DatasetCheck",
    "Finding",
    "Pipeline",
    "Span",
    "check_records",
    "iter_checks",
    "load_check_config",
    "register",
]
