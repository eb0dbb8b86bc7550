"""ShareGPT: {conversations: [{from: human|gpt|system, value}]}."""

from __future__ import annotations

from typing import Any

from oshie.data.formats.fields import (
    dump_metadata,
    finish_row,
    need_conversation,
    read_chat,
)
from oshie.data.formats.registry import Format, RowContext, register
from oshie.records import Conversation, Record

_SHAREGPT_KNOWN = frozenset({"id", "system", "conversations", "metadata"})
_SHAREGPT_ROLE = {"user": "human", "assistant": "gpt", "system": "system"}


def read_sharegpt(row: dict[str, Any], ctx: RowContext) -> Conversation:
    return read_chat(row, ctx, "conversations", _SHAREGPT_KNOWN, role_key="from", content_key="value")


def write_sharegpt(record: Record) -> dict[str, Any]:
    conv = need_conversation(record, "sharegpt")
    meta, extra = dump_metadata(conv.metadata)
    turns = [{"from": "system", "value": conv.system}] if conv.system is not None else []
    turns += [{"from": _SHAREGPT_ROLE[m.role], "value": m.content} for m in conv.messages]
    row: dict[str, Any] = {"id": conv.id, "conversations": turns}
    return finish_row(row, meta, extra)


register(Format("sharegpt", "conversation", ("conversations",), _SHAREGPT_KNOWN, read_sharegpt,
                write_sharegpt, "{conversations: [{from: human|gpt|system, value}]}"))
