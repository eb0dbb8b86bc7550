"""`oshie corpus clean` settings: the presets and every threshold, overridable in YAML or `--set`.

    preset: swallow-v1          # or llm-jp-v1
    swallow: {min_letters: 300, top_ngrams: {2: 0.25}}
    boilerplate: {min_pages: 5}
    disable: [ellipsis_lines]   # filter codes to skip

Only the section of the chosen preset is used; the others keep their defaults.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from oshie.corpus.boilerplate import BoilerplateLines
from oshie.corpus.filters import DocFilter
from oshie.corpus.rules import (
    ClassRatio,
    CompressionRatio,
    DuplicateNgrams,
    DuplicateUnits,
    EllipsisLines,
    MinLetters,
    NGWordRatio,
    SentenceLength,
    TopNgrams,
    ng_pattern,
)

PRESETS = ("swallow-v1", "llm-jp-v1")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SwallowRules(_Strict):
    """The Swallow corpus quality rules (Okazaki et al., 2024), with their published thresholds."""

    min_letters: int = Field(400, description="characters other than whitespace")
    min_hiragana: float = Field(0.2, description="hiragana share of letters")
    max_katakana: float = Field(0.5, description="katakana share of letters")
    min_japanese: float = Field(0.5, description="hiragana+katakana+kanji share of letters")
    sentence_mean_min: float = 20
    sentence_mean_max: float = 90
    sentence_max: int = Field(200, description="no sentence longer than this")
    max_ellipsis_lines: float = Field(0.2, description="share of lines ending in … ... ・・・")
    max_dup_paragraphs: float = 0.3
    max_dup_paragraph_chars: float = 0.2
    max_dup_sentences: float = 0.3
    max_dup_sentence_chars: float = 0.2
    top_ngrams: dict[int, float] = Field(default_factory=lambda: {2: 0.20, 3: 0.18, 4: 0.16})
    dup_ngrams: dict[int, float] = Field(
        default_factory=lambda: {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10})
    max_ng_ratio: float = Field(0.05, description="characters in NG words over letters (dropped at or above)")


class LlmJpRules(_Strict):
    """Rules in the manner of the llm-jp corpus v1: NG keywords, sentence length, compressibility."""

    min_letters: int = 1
    max_ng_hits: int = Field(3, description="dropped with this many NG-word matches or more")
    sentence_mean_min: float = 10
    sentence_mean_max: float = 200
    compression_min: float = Field(0.30, description="zlib bytes / UTF-8 bytes below this: repetitive")
    compression_max: float = Field(0.80, description="above this: random or encoded data")


class BoilerplateSettings(_Strict):
    enabled: bool = True
    min_pages: int = Field(3, ge=2, description="a line on this many pages of one host in a batch is boilerplate")
    max_menu_item: int = Field(12, description="longest item of a navigation line (characters)")


class NGWordSettings(_Strict):
    categories: list[str] | None = None  # shipped lists (resources/ngwords); None = all
    extra_files: list[str] = Field(default_factory=list)


class CleanConfig(_Strict):
    preset: Literal["swallow-v1", "llm-jp-v1"] = "swallow-v1"
    swallow: SwallowRules = Field(default_factory=SwallowRules)
    llm_jp: LlmJpRules = Field(default_factory=LlmJpRules)
    boilerplate: BoilerplateSettings = Field(default_factory=BoilerplateSettings)
    ng_words: NGWordSettings = Field(default_factory=NGWordSettings)
    disable: list[str] = Field(default_factory=list, description="filter codes to skip")
    classifier: str | None = Field(None, description="a quality classifier directory: drop what it scores below its threshold")
    classifier_threshold: float | None = Field(None, description="override the classifier's own threshold")
    batch_size: int = Field(1000, ge=1, description="documents per batch (site-repeated lines are counted per batch)")


def swallow_filters(r: SwallowRules, ng: NGWordSettings) -> list[DocFilter]:
    """Cheap rules first: a document stops at its first failure."""
    return [
        MinLetters(r.min_letters),
        ClassRatio("japanese", ("hiragana", "katakana", "kanji"), minimum=r.min_japanese),
        ClassRatio("hiragana", ("hiragana",), minimum=r.min_hiragana),
        ClassRatio("katakana", ("katakana",), maximum=r.max_katakana),
        NGWordRatio(r.max_ng_ratio, pattern=ng_pattern(ng.categories, ng.extra_files)),
        EllipsisLines(r.max_ellipsis_lines),
        SentenceLength(r.sentence_mean_min, r.sentence_mean_max, r.sentence_max),
        DuplicateUnits("paragraph", r.max_dup_paragraphs, r.max_dup_paragraph_chars),
        DuplicateUnits("sentence", r.max_dup_sentences, r.max_dup_sentence_chars),
        TopNgrams(r.top_ngrams),
        DuplicateNgrams(r.dup_ngrams),
    ]


def llm_jp_filters(r: LlmJpRules, ng: NGWordSettings) -> list[DocFilter]:
    return [
        MinLetters(r.min_letters),
        NGWordRatio(max_ratio=1.01, max_hits=r.max_ng_hits, pattern=ng_pattern(ng.categories, ng.extra_files)),
        SentenceLength(r.sentence_mean_min, r.sentence_mean_max, None),
        CompressionRatio(r.compression_min, r.compression_max),
    ]


def build_filters(cfg: CleanConfig) -> list[DocFilter]:
    """The preset's filters (after the boilerplate normaliser), minus the disabled codes."""
    rules = swallow_filters(cfg.swallow, cfg.ng_words) if cfg.preset == "swallow-v1" else llm_jp_filters(cfg.llm_jp, cfg.ng_words)
    filters: list[DocFilter] = []
    if cfg.boilerplate.enabled:
        filters.append(BoilerplateLines(cfg.boilerplate.max_menu_item))
    filters += rules
    if cfg.classifier:
        from oshie.corpus.classifier import QualityFilter

        filters.append(QualityFilter(cfg.classifier, cfg.classifier_threshold))
    codes = {f.code for f in filters}
    unknown = [c for c in cfg.disable if c not in codes]
    if unknown:
        from oshie.errors import ConfigError

        raise ConfigError(f"unknown filter code(s) in disable: {', '.join(unknown)}", field="disable",
                          hint=f"codes of {cfg.preset}: {', '.join(sorted(codes))}")
    return [f for f in filters if f.code not in cfg.disable]
