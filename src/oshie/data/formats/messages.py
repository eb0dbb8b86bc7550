"""The native format, also what OpenAI fine-tuning reads: {id, system?, messages: [{role, content}], metadata?}."""

from __future__ import annotations

from typing import Any

from oshie.data.formats.fields import (
    dump_metadata,
    finish_row,
    messages_json,
    need_conversation,
    read_chat,
)
from oshie.data.formats.registry import Format, RowContext, register
from oshie.records import Conversation, Record

_MESSAGES_KNOWN = frozenset({"id", "system", "messages", "metadata"})


def read_messages(row: dict[str, Any], ctx: RowContext) -> Conversation:
    return read_chat(row, ctx, "messages", _MESSAGES_KNOWN)


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
