"""{prompt, completion} as strings or message lists (TRL's two forms)."""

from __future__ import annotations

from typing import Any

from oshie.data.formats.fields import (
    Msg,
    answer_missing,
    check_turns,
    dump_metadata,
    finish_row,
    get_messages,
    get_text,
    maybe_json,
    merge_system,
    messages_json,
    need_conversation,
    read_conversation,
)
from oshie.data.formats.registry import Format, RowContext, RowError, register
from oshie.records import Conversation, Record

_PC_KNOWN = frozenset({"id", "prompt", "completion", "system", "metadata"})


def prompt_part(row: dict[str, Any], key: str, ctx: RowContext) -> tuple[str | None, list[Msg]]:
    value = maybe_json(row.get(key), ctx, list)
    if isinstance(value, list):
        return get_messages(value, key, ctx)
    return None, [{"role": "user", "content": get_text(row, key, ctx)}]


def answer_part(row: dict[str, Any], key: str, ctx: RowContext) -> list[Msg]:
    value = maybe_json(row.get(key), ctx, list)
    if isinstance(value, list):
        system, messages = get_messages(value, key, ctx)
        if system is not None:
            raise RowError("a system message cannot be part of an answer", f"{key}[0].role",
                           "put the system prompt in 'prompt' or 'system'")
        if not messages:
            raise RowError("has no messages", key, "write the answer as text or [{\"role\": \"assistant\", ...}]")
        return messages
    return [{"role": "assistant", "content": get_text(row, key, ctx)}]


def check_prompt(prompt: list[Msg], field: str, offset: int) -> None:
    if not prompt:
        raise RowError("has no user message", field, "the prompt needs a user message")
    expected = "user"
    for i, m in enumerate(prompt):
        if m["role"] != expected:
            raise RowError(f"roles must alternate user/assistant: expected {expected}, got {m['role']}",
                           f"{field}[{i + offset}].role", "merge or reorder the messages")
        expected = "assistant" if expected == "user" else "user"
    if prompt[-1]["role"] != "user":
        raise RowError("the prompt must end with a user message", f"{field}[{len(prompt) - 1 + offset}].role",
                       "the answer goes in the completion/chosen/rejected field")


def read_prompt_completion(row: dict[str, Any], ctx: RowContext) -> Conversation:
    inner, prompt = prompt_part(row, "prompt", ctx)
    check_prompt(prompt, "prompt", 1 if inner is not None else 0)
    completion: list[Msg] = []
    if not answer_missing(row, "completion", ctx, lists=True):
        completion = answer_part(row, "completion", ctx)
        check_turns(completion, "completion", start="assistant")
    system = merge_system(get_text(row, "system", ctx, required=False), inner, "prompt")
    return read_conversation(row, ctx, _PC_KNOWN, system, prompt + completion)


def write_prompt_completion(record: Record) -> dict[str, Any]:
    conv = need_conversation(record, "prompt_completion")
    meta, extra = dump_metadata(conv.metadata)
    row: dict[str, Any] = {"id": conv.id}
    answered = bool(conv.messages) and conv.messages[-1].role == "assistant"
    prompt = conv.messages[:-1] if answered else conv.messages
    if len(prompt) == 1:  # the plain string form most tools read
        if conv.system is not None:
            row["system"] = conv.system
        row["prompt"] = prompt[0].content
        row["completion"] = conv.messages[-1].content if answered else ""
    else:  # TRL's conversational form: the last answer is the completion
        head = [{"role": "system", "content": conv.system}] if conv.system is not None else []
        row["prompt"] = head + messages_json(prompt)
        row["completion"] = messages_json(conv.messages[-1:]) if answered else ""
    return finish_row(row, meta, extra)


register(Format("prompt_completion", "conversation", ("prompt", "completion"), _PC_KNOWN,
                read_prompt_completion, write_prompt_completion,
                "{prompt, completion} as strings or message lists", ("prompt",)))
