"""MARC-ja (JGLUE): review sentiment scored over ポジティブ / ネガティブ.

Format: JSON lines with `sentence` and `label` positive / negative (`review_id` optional).
"""

from __future__ import annotations

from oshie.eval.tasks.base import register
from oshie.eval.tasks.labels import LabelTask


@register
class MarcJa(LabelTask):
    name = "marc_ja"
    default_shots = 3
    instruction = "次の商品レビューが肯定的か否定的かを、ポジティブかネガティブのどちらかで答えてください。"
    description = "JGLUE MARC-ja: review sentiment by label-word log-likelihood"
    labels = ("positive", "negative")
    words = ("ポジティブ", "ネガティブ")
    id_field = "review_id"
    fields = (("sentence", "レビュー"),)
