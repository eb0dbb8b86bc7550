"""NG words by category, from editable lists under `resources/ngwords/` plus the user's own files."""

from __future__ import annotations

import re
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
)
from oshie.errors import ConfigError


def shipped_categories() -> list[str]:
    folder = resources.files("oshie").joinpath("resources/ngwords")
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt") and p.name != "README.txt")


def _entry_pattern(entry: str) -> str:
    if entry.startswith("re:"):
        return entry[3:]
    body = re.escape(entry)
    # all-katakana / all-hiragana words must not be part of a longer word of the same script
    if re.fullmatch(r"[ァ-ヶー]+", entry):
        return rf"(?<![ァ-ヶー]){body}(?![ァ-ヶー])"
    if re.fullmatch(r"[ぁ-ゖー]+", entry):
        return rf"(?<![ぁ-ゖ]){body}(?![ぁ-ゖ])"
    return body


def parse_word_list(text: str, source: str) -> re.Pattern[str]:
    entries = [line.strip() for line in text.splitlines()]
    entries = [e for e in entries if e and not e.startswith("#")]
    if not entries:
        raise ConfigError("NG-word list has no entries", path=source)
    try:
        return re.compile("|".join(_entry_pattern(e) for e in sorted(entries, key=len, reverse=True)))
    except re.error as exc:
        raise ConfigError(f"bad regular expression in NG-word list: {exc}", path=source) from exc


@lru_cache(maxsize=32)
def _shipped(category: str) -> re.Pattern[str]:
    path = f"resources/ngwords/{category}.txt"
    return parse_word_list(resources.files("oshie").joinpath(path).read_text("utf-8"), path)


class NGWordParams(CheckParams):
    categories: list[str] | None = None  # shipped categories to use; None = all of them
    extra_files: list[str] = Field(default_factory=list)  # your own lists; the file name (without .txt) is the category
    category_severity: dict[str, Severity] = Field(default_factory=dict)  # e.g. {sexual: warning}


@register
class NGWord(Check):
    code = "ng_word"
    severity = "error"
    family = "safety"
    description = "A word from the NG-word lists (profanity, discrimination, sexual, violence, or your own)."
    Params = NGWordParams

    def __init__(self, params: CheckParams | None = None) -> None:
        super().__init__(params)
        p: NGWordParams = self.params  # type: ignore[assignment]
        available = shipped_categories()
        chosen = available if p.categories is None else p.categories
        for c in chosen:
            if c not in available:
                raise ConfigError(
                    f"unknown NG-word category {c!r}", field="checks.ng_word.categories",
                    hint=f"shipped categories: {', '.join(available)}; add your own with extra_files",
                )
        self.lists: dict[str, re.Pattern[str]] = {c: _shipped(c) for c in chosen}
        for file in p.extra_files:
            path = Path(file)
            if not path.is_file():
                raise ConfigError("NG-word file not found", path=path, field="checks.ng_word.extra_files")
            self.lists[path.stem] = parse_word_list(path.read_text("utf-8"), str(path))

    def apply(self, record: Record) -> list[Finding]:
        p: NGWordParams = self.params  # type: ignore[assignment]
        found = []
        for f in text_fields(record):
            for category, pattern in self.lists.items():
                for m in pattern.finditer(f.text):
                    finding = self.finding(
                        record, f"NG word ({category}): '{m.group()}'",
                        self.span(f, m.start(), m.end()), category=category,
                    )
                    finding.severity = p.category_severity.get(category, self.level)
                    found.append(finding)
        return found
