"""UI text: Japanese first, English switchable (a cookie per browser; default from studio.yaml).

The words themselves live in `text.yaml` beside this module (key -> [Japanese, English]), so
they can be edited and translated without touching code.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

import yaml

LANGUAGES = ("ja", "en")


def _load() -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    data = yaml.safe_load((resources.files("oshie.studio") / "text.yaml").read_text("utf-8"))
    text, checks = (
        {key: (pair[0], pair[1]) for key, pair in data[section].items()}
        for section in ("text", "check_labels")
    )
    return text, checks


# key -> (Japanese, English); CHECK_LABELS: audit check code -> its name beside its findings
TEXT, CHECK_LABELS = _load()


def check_label(code: str, lang: str) -> str:
    pair = CHECK_LABELS.get(code)
    return (pair[1] if lang == "en" else pair[0]) if pair else code


def translator(lang: str) -> Callable[[str], str]:
    index = 1 if lang == "en" else 0

    def _(key: str) -> str:
        pair = TEXT.get(key)
        return pair[index] if pair else key

    return _
