"""Japanese prompt templates, by name (shipped under resources/prompts) or by file path.

A template is plain text with `{{name}}` placeholders. Substitution is a plain string
replacement, so braces in instructions or JSON examples are left alone. The name a
record cites in its provenance is the template's file stem (e.g. `synth_evol_deepen_v1`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from oshie.errors import UsageError

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    text: str
    source: str  # "builtin" or the user's file path

    @property
    def fields(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.text))

    def render(self, **values: str) -> str:
        missing = self.fields - values.keys()
        if missing:
            raise UsageError(
                f"prompt template '{self.name}' needs {', '.join(sorted(missing))}",
                path=None if self.source == "builtin" else self.source,
                hint="a template may use only the placeholders of the template it replaces: "
                + ", ".join("{{" + f + "}}" for f in sorted(values)),
            )
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), self.text)


def builtin_names() -> list[str]:
    folder = resources.files("oshie").joinpath("resources/prompts")
    return sorted(p.name.removesuffix(".txt") for p in folder.iterdir()
                  if p.name.endswith(".txt"))


def load_prompt(name_or_path: str | Path) -> PromptTemplate:
    """A shipped template by name (`synth_evol_deepen_v1`), or a user's template file."""
    text_ref = str(name_or_path)
    path = Path(text_ref)
    if path.is_file():
        return PromptTemplate(path.stem, path.read_text(encoding="utf-8"), str(path))
    if "/" in text_ref or "\\" in text_ref or text_ref.endswith(".txt"):
        raise UsageError(f"{text_ref}: no such prompt template file",
                         hint="give an existing .txt file, or a shipped template name")
    name = text_ref
    res = resources.files("oshie").joinpath(f"resources/prompts/{name}.txt")
    if not res.is_file():
        raise UsageError(
            f"no prompt template '{text_ref}'",
            hint="give a file path, or one of: " + ", ".join(builtin_names()),
        )
    return PromptTemplate(name, res.read_text(encoding="utf-8"), "builtin")


def check_fields(template: PromptTemplate, required: set[str]) -> PromptTemplate:
    """Fail early if a (user) template lacks a placeholder the pipeline fills in."""
    missing = required - template.fields
    if missing:
        raise UsageError(
            f"prompt template '{template.name}' lacks "
            + ", ".join("{{" + f + "}}" for f in sorted(missing)),
            path=None if template.source == "builtin" else template.source,
            hint="add the placeholder where the pipeline should insert that text",
        )
    return template
