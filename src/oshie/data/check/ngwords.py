"""NG words by category, from editable lists under `resources/ngwords/` plus the user's own files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import Field

from oshie.data.check.base import (
    Check,
    CheckParams,
    Finding,
    Record,
    Severity,
    register,
    text_fields,
    turns,
)
from oshie.data.check.text import any_pattern, mask_quotes
from oshie.errors import ConfigError


def shipped_categories() -> list[str]:
    folder = resources.files("oshie").joinpath("resources/ngwords")
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt") and p.name != "README.txt")


@dataclass(frozen=True)
class WordList:
    """One category's entries, compiled: harmful-in-use and mention tiers, and the verb
    forms whose hits the morphological analyser must confirm."""

    harmful: re.Pattern[str] | None
    mention: re.Pattern[str] | None
    verbs: frozenset[str]
    entries: tuple[str, ...] = ()  # every entry without its tier/verb prefix ("re:" kept)

    @property
    def pattern(self) -> re.Pattern[str]:
        """Both tiers as one pattern (for callers that only count hits, such as corpus filters)."""
        parts = [p.pattern for p in (self.harmful, self.mention) if p is not None]
        return re.compile("|".join(f"(?:{p})" for p in parts))

    @property
    def literals(self) -> list[str] | None:
        """The entries as plain strings, or None when some are regular expressions."""
        return None if any(e.startswith("re:") for e in self.entries) else sorted(set(self.entries))


def _entry_pattern(entry: str) -> str:
    if entry.startswith("re:"):
        return entry[3:]
    body = re.escape(entry)
    # all-katakana words: not part of a longer katakana word, nor of a kanji compound (時差ボケ)
    if re.fullmatch(r"[ァ-ヶー]+", entry):
        return rf"(?<![ァ-ヶー一-龯々]){body}(?![ァ-ヶー])"
    if re.fullmatch(r"[ぁ-ゖー]+", entry):
        return rf"(?<![ぁ-ゖ]){body}(?![ぁ-ゖ])"
    return body


def parse_word_list(text: str, source: str) -> WordList:
    entries = [line.strip() for line in text.splitlines()]
    entries = [e for e in entries if e and not e.startswith("#")]
    if not entries:
        raise ConfigError("NG-word list has no entries", path=source)
    tiers: dict[str, list[str]] = {"harmful": [], "mention": []}
    verbs = set()
    for e in entries:
        tier = "harmful"
        if e.startswith("mention:"):
            tier, e = "mention", e[len("mention:") :]
        if e.startswith("verb:"):
            e = e[len("verb:") :]
            verbs.add(e)
        tiers[tier].append(e)
    try:
        # verb forms are matched bare: the morphemes, not the neighbouring kana, decide
        compiled = {t: re.compile("|".join(re.escape(e) if e in verbs else _entry_pattern(e)
                                           for e in sorted(es, key=len, reverse=True))) if es else None
                    for t, es in tiers.items()}
    except re.error as exc:
        raise ConfigError(f"bad regular expression in NG-word list: {exc}", path=source) from exc
    return WordList(compiled["harmful"], compiled["mention"], frozenset(verbs), tuple(tiers["harmful"] + tiers["mention"]))


@lru_cache(maxsize=32)
def _shipped(category: str) -> WordList:
    path = f"resources/ngwords/{category}.txt"
    return parse_word_list(resources.files("oshie").joinpath(path).read_text("utf-8"), path)


def other_conjugation(text: str, start: int, end: int) -> bool:
    """True when the morphemes read text[start:end] as part of another verb form ('死ね'
    inside '死ねば', '死ねない', '死ねる'): then it is not the imperative insult. The
    imperative and the conditional stem look alike (死ね), so what follows decides."""
    from oshie.ja.morph import tagged

    lo = max(0, start - 10)
    words = tagged(text[lo : end + 10], offset=lo)
    for k, (_surface, pos, _form, s, e) in enumerate(words):
        if not (e > start and s < end) or pos != "動詞":
            continue
        if s < start or e > end:
            return True  # the hit is only part of a longer verb (死ねる)
        nxt = words[k + 1] if k + 1 < len(words) else None
        return nxt is not None and (nxt[0] == "ば" or nxt[1] in ("助動詞", "動詞", "接尾辞"))
    return False


# requests about words themselves: the answer names them without using them
_ABOUT_WORDS = any_pattern([
    "意味", "語源", "差別語", "放送禁止", "言い換え", "不適切な表現", "言葉遣い", "悪口", "暴言", "使ってはいけない",
    "NGワード", "禁止用語", "スラング", "由来", "どういう言葉", "タイトル", "作品", "番組",
])


class NGWordParams(CheckParams):
    categories: list[str] | None = None  # shipped categories to use; None = all of them
    extra_files: list[str] = Field(default_factory=list)  # your own lists; the file name (without .txt) is the category
    category_severity: dict[str, Severity] = Field(default_factory=dict)  # e.g. {sexual: warning}


@register
class NGWord(Check[NGWordParams], code="ng_word", severity="error", family="safety"):
    """A word from the NG-word lists (profanity, discrimination, sexual, violence, or your own):
    error when used, a warning when only mentioned."""

    def __init__(self, params: NGWordParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        available = shipped_categories()
        chosen = available if p.categories is None else p.categories
        for c in chosen:
            if c not in available:
                raise ConfigError(
                    f"unknown NG-word category {c!r}", field="checks.ng_word.categories",
                    hint=f"shipped categories: {', '.join(available)}; add your own with extra_files",
                )
        self.lists: dict[str, WordList] = {c: _shipped(c) for c in chosen}
        for file in p.extra_files:
            path = Path(file)
            if not path.is_file():
                raise ConfigError("NG-word file not found", path=path, field="checks.ng_word.extra_files")
            self.lists[path.stem] = parse_word_list(path.read_text("utf-8"), str(path))

    def apply(self, record: Record) -> list[Finding]:
        p = self.params
        about_words = any(_ABOUT_WORDS.search(t.task) for t in turns(record))
        found = []
        for f in text_fields(record):
            quoted = mask_quotes(f.text)
            for category, words in self.lists.items():
                for tier, pattern in (("harmful", words.harmful), ("mention", words.mention)):
                    if pattern is None:
                        continue
                    for m in pattern.finditer(f.text):
                        if m.group() in words.verbs and other_conjugation(f.text, m.start(), m.end()):
                            continue
                        in_quotes = not quoted[m.start() : m.end()].strip()
                        use = tier == "harmful" and not in_quotes and not about_words
                        level = p.category_severity.get(category, self.level)
                        found.append(self.finding(
                            record, f"NG word ({category}, {'used' if use else 'mentioned'}): '{m.group()}'",
                            self.span(f, *m.span()), category=category, tier=tier if use else "mention",
                            # a mention is worth a look, never a drop
                            severity=level if use or level != "error" else "warning",
                        ))
        return found
