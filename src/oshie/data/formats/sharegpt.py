"""ShareGPT: {conversations: [{from: human|gpt|system, value}]}."""

from __future__ import annotations

from typing import Any

from oshie.data.formats.fields import (
    check_turns,
    dump_metadata,
    finish_row,
    get_messages,
    get_text,
    merge_system,
    need_conversation,
    read_conversation,
)
from oshie.data.formats.registry import Format, RowContext, RowError, register
from oshie.records import Conversation, Record

_SHAREGPT_KNOWN = frozenset({"id", "system", "conversations", "metadata"})
_SHAREGPT_ROLE = {"user": "human", "assistant": "gpt", "system": "system"}


def read_sharegpt(row: dict[str, Any], ctx: RowContext) -> Conversation:
    top = get_text(row, "system", ctx, required=False)
    inner, messages = get_messages(row.get("conversations"), "conversations", ctx,
                                   role_key="from", content_key="value")
    offset = 1 if inner is not None else 0
    try:
        check_turns(messages, "conversations", offset=offset, require_answer=ctx.require_answer)
    except RowError as exc:  # name the sharegpt key, not ours
        raise RowError(exc.message, (exc.field or "").replace(".role", ".from"), exc.hint) from None
    return read_conversation(row, ctx, _SHAREGPT_KNOWN, merge_system(top, inner, "conversations"),
                             messages)


def write_sharegpt(record: Record) -> dict[str, Any]:
    conv = need_conversation(record, "sharegpt")
    meta, extra = dump_metadata(conv.metadata)
    turns = [{"from": "system", "value": conv.system}] if conv.system is not None else []
    turns += [{"from": _SHAREGPT_ROLE[m.role], "value": m.content} for m in conv.messages]
    row: dict[str, Any] = {"id": conv.id, "conversations": turns}
    return finish_row(row, meta, extra)


register(Format("sharegpt", "conversation", ("conversations",), _SHAREGPT_KNOWN, read_sharegpt,
                write_sharegpt, "{conversations: [{from: human|gpt|system, value}]}"))
