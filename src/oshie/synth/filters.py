"""Rule filters for generated text, on the shared filter protocol (`oshie.filters`).

Each is a `TextFilter`: `apply(text)` returns None when the text passes, or a short detail
saying why it fails; the filter's `code` is the drop reason recorded in the summary and the
rejected file. `Compose` runs them in order with per-filter statistics (the HojiChar shape).
Lengths are in characters (NFKC, whitespace left out): Japanese has no word spaces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import Field

from oshie.errors import UsageError
from oshie.filters import Compose, Filter
from oshie.ja.chars import char_class, japanese_ratio
from oshie.ja.lcs import lcs_length, rouge_l_f
from oshie.synth.novelty import char_tokens


def char_len(text: str) -> int:
    return len(char_tokens(text))


def _key(text: str) -> str:
    """Comparison form: NFKC, no whitespace, no trailing sentence punctuation."""
    return "".join(char_tokens(text)).rstrip("。．.!！?？")


class TextFilter(Filter[str, "str | None"]):
    """A synthesis filter: `apply(text)` is None (passes) or the reason it fails."""

    severity = "error"  # a generated text that fails is dropped


class CharLength(TextFilter):
    """Length in characters between `min_chars` and `max_chars`."""

    def __init__(self, min_chars: int = 5, max_chars: int = 1000, code: str = "length") -> None:
        self.min_chars, self.max_chars, self.code = min_chars, max_chars, code

    def apply(self, text: str) -> str | None:
        n = char_len(text)
        if n < self.min_chars:
            return f"{n} characters < {self.min_chars}"
        if n > self.max_chars:
            return f"{n} characters > {self.max_chars}"
        return None


class Blocklist(TextFilter):
    """Tasks a text model cannot do (画像, 音声, ファイルを添付...): substring match after NFKC."""

    code = "blocklist"

    def __init__(self, words: Iterable[str]) -> None:
        self.words = [unicodedata.normalize("NFKC", w) for w in words if w.strip()]

    def apply(self, text: str) -> str | None:
        norm = unicodedata.normalize("NFKC", text)
        hit = next((w for w in self.words if w in norm), None)
        return f"contains '{hit}'" if hit else None


def load_word_list(path: str | Path | None, default: str) -> list[str]:
    """Lines of a word list file (`#` comments), or of a shipped list under resources/synth."""
    if path is None:
        text = resources.files("oshie").joinpath(f"resources/synth/{default}").read_text("utf-8")
    else:
        p = Path(path)
        if not p.is_file():
            raise UsageError(f"{p}: no such file", hint="give a text file with one entry a line")
        text = p.read_text(encoding="utf-8-sig")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


# Opening characters an instruction cannot start with: closing brackets and punctuation.
_BAD_START = set("、。，．,.・:：;；)）」』】〕]}>〉》ー～〜!！?？")
# A sentence cut off mid-way ends with a comma or a case/connective particle. (The te-form
# "教えて" / "翻訳して" is a complete casual request, so て/で are not in the list.)
_MID_SENTENCE = re.compile(r"(?:[、，,・:：;；]|[がをにはとやも]|から|ので|けど|けれど)$")


class StartEnd(TextFilter):
    """Does not start with punctuation/closing brackets; does not end mid-sentence."""

    code = "start_end"

    def apply(self, text: str) -> str | None:
        t = text.strip()
        if not t:
            return "empty"
        if t[0] in _BAD_START:
            return f"starts with '{t[0]}'"
        if _MID_SENTENCE.search(t):
            return f"ends mid-sentence ('{t[-3:]}')"
        return None


class NotBroken(TextFilter):
    """No U+FFFD replacement characters or control characters (broken decoding, mojibake)."""

    code = "broken_text"

    def apply(self, text: str) -> str | None:
        bad = next((c for c in text if c == "\ufffd" or
                    (unicodedata.category(c) in ("Cc", "Cs", "Co") and c not in "\n\t\r")), None)
        return f"contains U+{ord(bad):04X}" if bad is not None else None


# the config field of every pipeline that filters by JapaneseRatio
MinJapanese = Annotated[float, Field(ge=0, le=1, description="Least share of kana/kanji letters.")]


class JapaneseRatio(TextFilter):
    """At least `min_ratio` of the letters are kana or kanji."""

    code = "not_japanese"

    def __init__(self, min_ratio: float = 0.5) -> None:
        self.min_ratio = min_ratio

    def apply(self, text: str) -> str | None:
        r = japanese_ratio(text)
        return f"Japanese ratio {r:.2f} < {self.min_ratio}" if r < self.min_ratio else None


class NotCopied(TextFilter):
    """Not a copy of a text shown in the prompt (the examples, or the template itself)."""

    code = "prompt_copy"

    def __init__(self, shown: Iterable[str] = (), markers: Iterable[str] = ()) -> None:
        self.shown = {_key(s) for s in shown if s.strip()}
        self.markers = [m for m in markers if m]

    def apply(self, text: str) -> str | None:
        if _key(text) in self.shown:
            return "identical to an example in the prompt"
        hit = next((m for m in self.markers if m in text), None)
        return f"contains prompt wording '{hit}'" if hit else None


class HasContent(TextFilter):
    """Not empty and not only punctuation or symbols."""

    code = "empty"

    def apply(self, text: str) -> str | None:
        if not any(char_class(c) not in ("symbol", "space") for c in text):
            return "empty or only punctuation"
        return None


REFUSAL_PHRASES = (
    "申し訳ありません", "申し訳ございません", "お答えできません", "お答えすることができません",
    "回答できません", "回答することはできません", "対応できません", "できかねます", "お手伝いできません",
    "AIですので", "AIなので", "AIアシスタントとして", "言語モデルとして", "情報が不足しているため",
    "I'm sorry", "I am sorry", "I cannot", "I can't", "As an AI",
)


class NotRefusal(TextFilter):
    """Not a short refusal (a refusal phrase in an answer under `max_chars` characters)."""

    code = "refusal"

    def __init__(self, max_chars: int = 200, phrases: Sequence[str] = REFUSAL_PHRASES) -> None:
        self.max_chars, self.phrases = max_chars, phrases

    def apply(self, text: str) -> str | None:
        if char_len(text) >= self.max_chars:
            return None
        hit = next((p for p in self.phrases if p.lower() in text.lower()), None)
        return f"refusal ('{hit}')" if hit else None


EVOL_LEAK_WORDS = (
    "#与えられたプロンプト#", "#書き換えたプロンプト#", "#新しいプロンプト#", "与えられたプロンプト",
    "書き換えたプロンプト", "新しいプロンプト", "#Given Prompt#", "#Rewritten Prompt#",
    "#Created Prompt#",
)


class Changed(TextFilter):
    """An evolved instruction that really differs from its parent (ROUGE-L F below a cap)."""

    code = "no_change"

    def __init__(self, parent: str, max_similarity: float = 0.95) -> None:
        self.parent, self.max_similarity = parent, max_similarity

    def apply(self, text: str) -> str | None:
        a, b = char_tokens(self.parent), char_tokens(text)
        if _key(self.parent) == _key(text):
            return "identical to the parent"
        f = rouge_l_f(lcs_length(a, b), len(b), len(a))
        return f"ROUGE-L {f:.2f} vs parent >= {self.max_similarity}" if f >= self.max_similarity else None


def instruction_filters(
    min_chars: int = 5,
    max_chars: int = 500,
    blocklist: Iterable[str] | None = None,
    min_japanese: float = 0.5,
) -> Compose[str]:
    """The Self-Instruct/Magpie instruction filters with Japanese-aware defaults."""
    words = list(blocklist) if blocklist is not None else load_word_list(None, "task_blocklist.txt")
    return Compose([
        HasContent(), NotBroken(), CharLength(min_chars, max_chars), StartEnd(),
        JapaneseRatio(min_japanese),
        Blocklist(words),
    ])
