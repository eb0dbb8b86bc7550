"""License guard: refuse to make training data with models whose terms forbid it.

Some hosted models' terms forbid using their outputs to develop competing models. The
shipped list (resources/synth/restricted_models.txt, replaceable with a file of your
own) holds glob patterns of such model names. A match stops the run with an explanation
unless the user overrides it, and every record made that way carries
`license_restricted: true` in its provenance.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from oshie.errors import UsageError
from oshie.synth.filters import load_word_list


@dataclass(frozen=True)
class RestrictedRule:
    pattern: str
    reason: str


def load_rules(path: str | Path | None = None) -> list[RestrictedRule]:
    """Rules from `path` (or the shipped list): `pattern | reason` per line, `#` comments."""
    rules = []
    for line in load_word_list(path, "restricted_models.txt"):
        pattern, _, reason = line.partition("|")
        rules.append(RestrictedRule(pattern.strip().lower(),
                                    reason.strip() or "listed as restricted"))
    return rules


def match(model: str, rules: list[RestrictedRule]) -> RestrictedRule | None:
    """The first rule matching the model name or its last path component (case-insensitive)."""
    name = model.strip().lower()
    candidates = {name, name.rstrip("/").rsplit("/", 1)[-1]}
    for rule in rules:
        if any(fnmatch.fnmatchcase(c, rule.pattern) for c in candidates):
            return rule
    return None


def check_models(
    models: dict[str, str], rules: list[RestrictedRule], allow: bool
) -> bool:
    """Raise unless allowed when any of `models` (role -> name) is restricted.

    Returns whether the output is license-restricted (so provenance can say so).
    """
    hits = {role: (name, rule) for role, name in models.items()
            if (rule := match(name, rules)) is not None}
    if hits and not allow:
        lines = [f"{role} model '{name}' matches '{rule.pattern}': {rule.reason}"
                 for role, (name, rule) in hits.items()]
        raise UsageError(
            "refusing to generate training data with a model whose terms restrict it:\n  "
            + "\n  ".join(lines),
            field="model",
            hint="use a model whose license allows training on its outputs, or pass "
            "--allow-restricted-license if your use is permitted (records are then marked "
            "license_restricted: true)",
        )
    return bool(hits)
