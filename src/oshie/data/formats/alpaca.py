"""Alpaca: {instruction, input, output}; the input joins the instruction after a blank line."""

from __future__ import annotations

from typing import Any

from oshie.data.formats.fields import (
    conversation,
    dump_metadata,
    finish_row,
    get_answer,
    get_id,
    get_metadata,
    get_text,
    need_conversation,
    single_turn,
    turn,
)
from oshie.data.formats.registry import Format, RowContext, register
from oshie.records import Conversation, Record

_ALPACA_KNOWN = frozenset({"id", "instruction", "input", "output", "system", "metadata"})
_ALPACA_INPUT = "alpaca_input"  # metadata key that lets a round trip split instruction/input again


def read_alpaca(row: dict[str, Any], ctx: RowContext) -> Conversation:
    instruction = get_text(row, "instruction", ctx)
    extra_input = get_text(row, "input", ctx, required=False)
    output = get_answer(row, "output", ctx)
    meta = get_metadata(row, "metadata", ctx, _ALPACA_KNOWN)
    user = instruction
    if extra_input and extra_input.strip():
        user = f"{instruction}\n\n{extra_input}"
        meta[_ALPACA_INPUT] = extra_input
    messages = turn(user, output)
    return conversation(get_id(row, ("id",), ctx), get_text(row, "system", ctx, required=False),
                         messages, meta)


def write_alpaca(record: Record) -> dict[str, Any]:
    conv = need_conversation(record, "alpaca")
    user, answer = single_turn(conv, "alpaca")
    meta, extra = dump_metadata(conv.metadata)
    extra_input = meta.pop(_ALPACA_INPUT, None)
    instruction, inp = user, ""
    if isinstance(extra_input, str) and extra_input and user.endswith("\n\n" + extra_input):
        instruction, inp = user[: -len(extra_input) - 2], extra_input
    elif extra_input is not None:
        meta[_ALPACA_INPUT] = extra_input  # the text changed since; keep the note, do not split
    row: dict[str, Any] = {"id": conv.id, "instruction": instruction, "input": inp, "output": answer}
    if conv.system is not None:
        row["system"] = conv.system
    return finish_row(row, meta, extra)


register(Format("alpaca", "conversation", ("instruction", "output"), _ALPACA_KNOWN, read_alpaca,
                write_alpaca, "{instruction, input, output}", ("instruction",)))
