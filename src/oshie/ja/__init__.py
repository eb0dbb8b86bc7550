"""Japanese text primitives: character classes, normalisation, sentences, speech style, numbers.

Pure Python and fast to import; morphological analysis (`oshie.ja.morph`) loads fugashi
lazily. This package imports nothing else from oshie.
"""

from oshie.ja.chars import (
    CHAR_CLASSES,
    char_class,
    char_counts,
    char_ratios,
    count_japanese,
    japanese_ratio,
    latin_runs,
    latin_word_count,
)
from oshie.ja.normalize import (
    compact,
    nfkc,
    normalize,
    normalize_whitespace,
    to_fullwidth_katakana,
    to_halfwidth_ascii,
)
from oshie.ja.numbers import parse_number
from oshie.ja.sentences import sentence_spans, split_sentences
from oshie.ja.style import dominant_style, sentence_style, sentence_styles

__all__ = [
    "CHAR_CLASSES",
    "char_class",
    "char_counts",
    "char_ratios",
    "compact",
    "count_japanese",
    "dominant_style",
    "japanese_ratio",
    "latin_runs",
    "latin_word_count",
    "nfkc",
    "normalize",
    "normalize_whitespace",
    "parse_number",
    "sentence_spans",
    "sentence_style",
    "sentence_styles",
    "split_sentences",
    "to_fullwidth_katakana",
    "to_halfwidth_ascii",
]
