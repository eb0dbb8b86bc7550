"""Option handling and printing shared by several command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table


def llm_overrides(
    *,
    base_url: str | None,
    model: str | None,
    api_key_env: str | None,
    cache: Path | None,
    local: bool = False,
) -> dict[str, Any]:
    """LLM config fields set by the connection flags; a base URL implies the openai backend."""
    fields: dict[str, Any] = {}
    if base_url:
        fields.update(backend="openai", base_url=base_url)
    if local:
        fields["backend"] = "local"
    if model:
        fields["model"] = model
    if api_key_env:
        fields["api_key_env"] = api_key_env
    if cache:
        fields["cache"] = str(cache)
    return fields


def key_value_table() -> Table:
    """A borderless two-column table: bold names on the left, values on the right."""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    return table
