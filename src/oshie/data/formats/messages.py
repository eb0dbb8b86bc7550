"""The native format, also what OpenAI fine-tuning reads: {id, system?, messages: [{role, content}], metadata?}."""

from __future__ import annotations

from typing import Any

from oshie.data.formats.fields import (
    check_turns,
    dump_metadata,
    finish_row,
    get_messages,
    get_text,
    merge_system,
    messages_json,
    need_conversation,
    read_conversation,
)
from oshie.data.formats.registry import Format, RowContext, register
from oshie.records import Conversation, Record

_MESSAGES_KNOWN = frozenset({"id", "system", "messages", "metadata"})


def read_messages(row: dict[str, Any], ctx: RowContext) -> Conversation:
    top = get_text(row, "system", ctx, required=False)
    inner, messages = get_messages(row.get("messages"), "messages", ctx)
    check_turns(messages, "messages", offset=1 if inner is not None else 0, require_answer=ctx.require_answer)
    return read_conversation(row, ctx, _MESSAGES_KNOWN, merge_system(top, inner, "messages"), messages)


def write_messages(record: Record) -> dict[str, Any]:
    conv = need_conversation(record, "messages")
    meta, extra = dump_metadata(conv.metadata)
    row: dict[str, Any] = {"id": conv.id}
    if conv.system is not None:
        row["system"] = conv.system
    row["messages"] = messages_json(conv.messages)
    return finish_row(row, meta, extra)


register(Format("messages", "conversation", ("messages",), _MESSAGES_KNOWN, read_messages, write_messages,
                "native/OpenAI: {id, system?, messages: [{role, content}], metadata?}"))
