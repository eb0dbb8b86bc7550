"""Prompt templates: one loader, one placeholder syntax, one escape for fenced untrusted text.

A template is a UTF-8 text file, shipped under `resources/prompts/` and cited by its
versioned name (`judge_grade_v1`), or a user's file given by path (which overrides a
shipped one wherever a name is accepted). Placeholders are written `{{name}}`,
`{{ name }}` or `{name}` (an ASCII identifier inside braces); JSON examples in a prompt
(`{"score": 1}`) are not placeholders. Filling is one pass, so text inserted for one
placeholder is never scanned for another.

Mistakes fail loudly instead of silently sending a prompt with a hole in it: a placeholder
the caller has no value for, or a placeholder the caller needs but the template lacks, is
a `UsageError` naming the file and the placeholder.

Untrusted text (answers being judged, records being screened) goes between fence lines
`<<<…>>>` in the template. When a template contains such a fence, every value is passed
through `escape_fenced` before it is inserted, so no record can forge a fence and close
its data block early; templates without fences get their values verbatim (a rewrite
prompt must show code such as CUDA's `<<<grid, block>>>` unchanged).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from oshie.errors import UsageError

__all__ = ["PromptTemplate", "builtin_names", "check_fields", "escape_fenced", "load_prompt"]

_PLACEHOLDER = re.compile(
    r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}"  # {{name}} / {{ name }}
    r"|(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})"  # {name}
)
_FENCE_LINE = re.compile(r"^\s*<<<.*>>>\s*$", re.M)
_FENCE_OPEN, _FENCE_CLOSE = "<<<", ">>>"
_ESCAPED_OPEN, _ESCAPED_CLOSE = "＜＜＜", "＞＞＞"


def escape_fenced(text: str) -> str:
    """Untrusted text made safe to place between `<<<…>>>` fence lines.

    Every run of three ASCII angle brackets becomes full-width, so the text keeps its look
    for the reader but can neither open nor close a fence.
    """
    return text.replace(_FENCE_OPEN, _ESCAPED_OPEN).replace(_FENCE_CLOSE, _ESCAPED_CLOSE)


@dataclass(frozen=True)
class PromptTemplate:
    """A loaded template: its citable name, its text and where it came from."""

    name: str
    text: str
    source: str  # "builtin" or the user's file path

    @property
    def path(self) -> str | None:
        """The user's file, for error messages; None for a shipped template."""
        return None if self.source == "builtin" else self.source

    @property
    def fields(self) -> set[str]:
        """Names of every placeholder the template contains."""
        return {a or b for a, b in _PLACEHOLDER.findall(self.text)}

    @property
    def fenced(self) -> bool:
        """Whether the template fences untrusted text between `<<<…>>>` lines."""
        return _FENCE_LINE.search(self.text) is not None

    @property
    def digest(self) -> str:
        """sha256 of the text, so a cache or manifest can tell an edited template apart."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def render(self, **values: str) -> str:
        """The prompt with every placeholder filled; a placeholder without a value is an error."""
        missing = self.fields - values.keys()
        if missing:
            raise UsageError(
                f"prompt template '{self.name}' has placeholder(s) this step does not fill: "
                + ", ".join("{{" + f + "}}" for f in sorted(missing)),
                path=self.path,
                hint="a template may use only these placeholders: "
                + ", ".join("{{" + f + "}}" for f in sorted(values)),
            )
        safe = {k: escape_fenced(v) for k, v in values.items()} if self.fenced else values
        return _PLACEHOLDER.sub(lambda m: safe[m.group(1) or m.group(2)], self.text)


def builtin_names() -> list[str]:
    """Names of the templates shipped with oshie."""
    folder = resources.files("oshie").joinpath("resources/prompts")
    return sorted(p.name.removesuffix(".txt") for p in folder.iterdir()
                  if p.name.endswith(".txt"))


def load_prompt(name_or_path: str | Path, base: Path | None = None) -> PromptTemplate:
    """A shipped template by name (`synth_evol_deepen_v1`), or a user's template file.

    A relative path is looked up under `base` (the directory of the config file that
    named it) when given, else under the working directory.
    """
    ref = str(name_or_path)
    path = Path(ref)
    if base is not None and not path.is_absolute() and (base / path).is_file():
        path = base / path
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"prompt template is not UTF-8 text ({exc.reason})", path=path,
                             hint="save the template as UTF-8") from None
        return PromptTemplate(path.stem, text, str(path))
    if "/" in ref or "\\" in ref or ref.endswith(".txt"):
        raise UsageError(f"{ref}: no such prompt template file",
                         hint="give an existing .txt file, or a shipped template name")
    res = resources.files("oshie").joinpath(f"resources/prompts/{ref}.txt")
    if not res.is_file():
        raise UsageError(f"no prompt template '{ref}'",
                         hint="give a file path, or one of: " + ", ".join(builtin_names()))
    return PromptTemplate(ref, res.read_text(encoding="utf-8"), "builtin")


def check_fields(template: PromptTemplate, required: Iterable[str]) -> PromptTemplate:
    """Fail early if a (user) template lacks a placeholder the step needs to show the model."""
    missing = set(required) - template.fields
    if missing:
        raise UsageError(
            f"prompt template '{template.name}' lacks "
            + ", ".join("{{" + f + "}}" for f in sorted(missing)),
            path=template.path,
            hint="add the placeholder where the step should insert that text",
        )
    return template
