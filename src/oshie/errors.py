"""One exception hierarchy. Messages name the file, line and field, and say what to do.

The CLI catches `OshieError`, prints its message without a traceback and exits with
`exit_code`: 1 for invalid data, 2 for usage/config errors (typer's own convention).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError", "DataError", "LLMError", "MissingExtraError", "ModelError", "OshieError",
    "UsageError", "require",
]


class OshieError(Exception):
    """Base class for every error oshie raises on purpose."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
        line_label: str = "line",
    ) -> None:
        self.message = message
        self.line_label = line_label  # "row" for spreadsheets and tables
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.hint = hint
        super().__init__(self.render())

    def location(self) -> str:
        """'file, line N, field X': where the problem is, as far as known."""
        parts = []
        if self.path:
            parts.append(self.path)
        if self.line is not None:
            parts.append(f"{self.line_label} {self.line}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)

    def render(self) -> str:
        """The message the CLI prints: location, message and hint."""
        loc = self.location()
        text = f"{loc}: {self.message}" if loc else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class DataError(OshieError):
    """Input data is malformed (bad JSON, missing field, wrong type, bad encoding...)."""

    exit_code = 1


class UsageError(OshieError):
    """The command, its options or a config file is wrong."""

    exit_code = 2


class ConfigError(UsageError):
    """A YAML/pydantic config is invalid (unknown key, conflicting keys, bad value)."""


class ModelError(OshieError):
    """A model or tokenizer directory is missing parts or cannot be used as asked."""

    exit_code = 2


class LLMError(OshieError):
    """An LLM backend failed after its retries."""

    exit_code = 1


class RowError(Exception):
    """A problem with one row of a file (unparsable, or a field at fault); the reader that
    knows the file and line turns it into a `DataError` or a quarantine entry."""

    def __init__(self, message: str, field: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.hint = hint


class MissingExtraError(UsageError):
    """An optional dependency is not installed."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"this feature needs the optional package '{module}'",
            hint=f"install it with: pip install 'oshie[{extra}]'",
        )


def require(module: str, extra: str):
    """Import an optional heavy dependency lazily, with an error naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(module, extra) from exc
