"""Structural checks: empty or whitespace-only fields, missing instruction or answer."""

from __future__ import annotations

from oshie.data.check.base import Check, Finding, Record, register, text_fields, turns


@register
class EmptyField(Check, code="empty_field", severity="error", family="fields"):
    """A message (or the system prompt) is empty or only whitespace, or a turn is missing."""

    def apply(self, record: Record) -> list[Finding]:
        found = []
        for f in text_fields(record):
            if not f.text.strip():
                what = "empty" if not f.text else "only whitespace"
                found.append(self.finding(record, f"{f.path} is {what}", self.span(f)))
        if not turns(record):
            found.append(self.finding(record, "no user message followed by an assistant answer"))
        return found
