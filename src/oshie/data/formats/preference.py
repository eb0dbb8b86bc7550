"""Preference pairs {prompt, chosen, rejected} as strings or message lists, with optional scores."""

from __future__ import annotations

from typing import Any

from oshie.data.formats.fields import (
    check_turns,
    dump_metadata,
    finish_row,
    get_id,
    get_metadata,
    get_text,
    merge_system,
    messages_json,
    type_name,
    validated,
)
from oshie.data.formats.prompt_completion import answer_part, check_prompt, prompt_part
from oshie.data.formats.registry import Format, RowContext, RowError, register
from oshie.records import PreferencePair, Record

_PREF_KNOWN = frozenset({"id", "prompt", "chosen", "rejected", "system", "chosen_score",
                         "rejected_score", "metadata"})


def _score(row: dict[str, Any], key: str, ctx: RowContext) -> float | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and ctx.tabular:
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError(f"expected a number, got {type_name(value)}", key, "write a number or leave it out")
    return float(value)


def read_preference(row: dict[str, Any], ctx: RowContext) -> PreferencePair:
    inner, prompt = prompt_part(row, "prompt", ctx)
    check_prompt(prompt, "prompt", 1 if inner is not None else 0)
    answers = {}
    for key in ("chosen", "rejected"):
        answers[key] = answer_part(row, key, ctx)
        check_turns(answers[key], key, start="assistant")
    system = merge_system(get_text(row, "system", ctx, required=False), inner, "prompt")
    data = {
        "id": get_id(row, ("id",), ctx), "system": system, "prompt": prompt,
        "chosen": answers["chosen"], "rejected": answers["rejected"],
        "chosen_score": _score(row, "chosen_score", ctx), "rejected_score": _score(row, "rejected_score", ctx),
        "metadata": get_metadata(row, "metadata", ctx, _PREF_KNOWN),
    }
    return validated(PreferencePair, data, "metadata")  # type: ignore[return-value]


def write_preference(record: Record) -> dict[str, Any]:
    if not isinstance(record, PreferencePair):
        raise RowError("the preference format needs prompt/chosen/rejected; this is a conversation",
                       None, "build pairs with `oshie synth` or write this data as messages")
    meta, extra = dump_metadata(record.metadata)
    row: dict[str, Any] = {"id": record.id}
    simple = len(record.prompt) == 1 and len(record.chosen) == 1 and len(record.rejected) == 1
    if simple:
        if record.system is not None:
            row["system"] = record.system
        row["prompt"] = record.prompt[0].content
        row["chosen"], row["rejected"] = record.chosen[0].content, record.rejected[0].content
    else:
        head = [{"role": "system", "content": record.system}] if record.system is not None else []
        row["prompt"] = head + messages_json(record.prompt)
        row["chosen"], row["rejected"] = messages_json(record.chosen), messages_json(record.rejected)
    for key in ("chosen_score", "rejected_score"):
        if getattr(record, key) is not None:
            row[key] = getattr(record, key)
    return finish_row(row, meta, extra)


register(Format("preference", "preference", ("prompt", "chosen", "rejected"), _PREF_KNOWN,
                read_preference, write_preference,
                "{prompt, chosen, rejected} as strings or message lists"))
