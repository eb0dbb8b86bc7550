"""JNLI (JGLUE): natural language inference scored over Japanese label words.

Format: JSON lines with `sentence_pair_id`, `sentence1`, `sentence2`,
`label` in entailment / contradiction / neutral. Choices: 含意 / 矛盾 / 中立.
"""

from __future__ import annotations

from oshie.eval.tasks.base import register
from oshie.eval.tasks.labels import LabelTask


@register
class JNLI(LabelTask):
    name = "jnli"
    default_shots = 3
    instruction = "前提の文から仮説の文が言えるかどうかを、含意・矛盾・中立のどれか一語で答えてください。"
    description = "JGLUE JNLI: entailment / contradiction / neutral by label-word log-likelihood"
    labels = ("entailment", "contradiction", "neutral")
    words = ("含意", "矛盾", "中立")
    id_field = "sentence_pair_id"
    fields = (("sentence1", "前提"), ("sentence2", "仮説"))
