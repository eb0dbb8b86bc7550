"""ichikara-instruction: {ID, text, output, meta?}."""

from __future__ import annotations

from typing import Any

from oshie.data.formats.fields import (
    dump_metadata,
    get_answer,
    get_text,
    need_conversation,
    read_conversation,
    single_turn,
    turn,
    with_extra,
)
from oshie.data.formats.registry import Format, RowContext, register
from oshie.records import Conversation, Record

_ICHIKARA_KNOWN = frozenset({"ID", "id", "text", "output", "meta", "system"})


def read_ichikara(row: dict[str, Any], ctx: RowContext) -> Conversation:
    messages = turn(get_text(row, "text", ctx), get_answer(row, "output", ctx))
    return read_conversation(row, ctx, _ICHIKARA_KNOWN, get_text(row, "system", ctx, required=False),
                             messages, id_keys=("ID", "id"), meta_key="meta")


def write_ichikara(record: Record) -> dict[str, Any]:
    conv = need_conversation(record, "ichikara")
    text, output = single_turn(conv, "ichikara")
    meta, extra = dump_metadata(conv.metadata)
    row: dict[str, Any] = {"ID": conv.id, "text": text, "output": output}
    if meta:
        row["meta"] = meta
    if conv.system is not None:
        row["system"] = conv.system
    return with_extra(row, extra, "meta")


register(Format("ichikara", "conversation", ("text", "output"), _ICHIKARA_KNOWN, read_ichikara,
                write_ichikara, "ichikara-instruction: {ID, text, output, meta?}", ("text",)))
