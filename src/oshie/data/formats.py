"""Instruction-data formats, each a pair of small functions registered by name.

`read_row(row, ctx)` turns one source row (a dict) into a `Conversation` or
`PreferencePair` and raises `RowError` naming the field at fault; `write_row(record)`
turns a record back into a row and raises `RowError` when the format cannot hold it
(e.g. a multi-turn chat in alpaca). Fields a format does not know are kept in
`metadata.extra` and written back as top-level fields, so a round trip keeps them.

Instructions without answers (synthesis inputs) are read when `RowContext.require_answer`
is False: a chat may end with the user, and a missing or blank answer field (alpaca and
ichikara `output`, `completion`) gives a user-only `Conversation`. Writers put such a
record back with an empty answer field, which a strict read reports by line and field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from oshie.errors import UsageError
from oshie.records import Conversation, Message, PreferencePair, Provenance, Record

Msg = dict[str, str]  # {"role", "content"}: records are validated once, as a whole, at the end


class RowError(Exception):
    """A problem with one row; the reader adds the file and line."""

    def __init__(self, message: str, field: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.hint = hint


@dataclass(frozen=True)
class RowContext:
    stem: str  # file stem, for ids of records that have none
    line: int  # line (or row) where the record starts
    tabular: bool = False  # cells of CSV/XLSX/Parquet: nested fields may be JSON text
    require_answer: bool = True  # False: instructions without answers are records too


@dataclass(frozen=True)
class Format:
    name: str
    kind: Literal["conversation", "preference"]
    required: tuple[str, ...]  # fields that identify the format when auto-detecting
    known: frozenset[str]  # every field the format reads; others go to metadata.extra
    read_row: Callable[[dict[str, Any], RowContext], Record]
    write_row: Callable[[Record], dict[str, Any]]
    summary: str
    # fields that identify the format when answers may be missing (default: `required`)
    prompt_fields: tuple[str, ...] = ()

    def identified_by(self, row: dict[str, Any], require_answer: bool = True) -> bool:
        fields = self.required if require_answer else (self.prompt_fields or self.required)
        return all(key in row for key in fields)


FORMATS: dict[str, Format] = {}
ALIASES = {"openai": "messages", "native": "messages", "dpo": "preference", "ichikara-instruction": "ichikara"}
# Detection order: the most specific field sets first (alpaca rows sometimes carry a `text` column).
DETECT_ORDER = ("preference", "prompt_completion", "messages", "sharegpt", "alpaca", "ichikara")


def register(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt


def get_format(name: str) -> Format:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in FORMATS:
        raise UsageError(
            f"unknown format '{name}'",
            hint=f"use one of: {', '.join(FORMATS)}",
        )
    return FORMATS[key]


def detect_format(rows: list[dict[str, Any]], require_answer: bool = True) -> Format | None:
    """The first format whose identifying fields a row has (rows tried in order); without
    `require_answer`, a row lacking every full field set is matched by its prompt fields."""
    for row in rows:
        for strict in (True, False) if not require_answer else (True,):
            for name in DETECT_ORDER:
                if FORMATS[name].identified_by(row, strict):
                    return FORMATS[name]
    return None


# ---------------------------------------------------------------- field helpers

# control characters other than tab/newline/CR, and surrogates (invalid in UTF-8)
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def check_text(value: str, field: str) -> None:
    """Reject characters that break tokenizers and UTF-8 writers."""
    m = _BAD_CHARS.search(value)
    if m is None:
        return
    ch, pos = m.group(), m.start()
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte the decoder could not read (surrogateescape)
        raise RowError(
            f"undecodable byte 0x{code - 0xDC00:02X} at character {pos}",
            field,
            "the file mixes encodings; re-save it as UTF-8",
        )
    if 0xD800 <= code <= 0xDFFF:
        raise RowError(
            f"invalid Unicode: lone surrogate U+{code:04X} at character {pos}",
            field,
            "a \\uD8xx escape lost its pair; fix or remove it",
        )
    raise RowError(
        f"control character U+{code:04X} at character {pos}",
        field,
        "remove it; only tab and newline are allowed in text",
    )


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", bool: "a boolean", int: "a number",
            float: "a number", str: "text"}.get(type(value), type(value).__name__)


def _missing(row: dict[str, Any], key: str, ctx: RowContext) -> bool:
    value = row.get(key)
    if value is None:
        return True
    return ctx.tabular and value == ""


def get_text(
    row: dict[str, Any], key: str, ctx: RowContext, *, required: bool = True, field: str | None = None
) -> str | None:
    """A text field: present, a string, not blank, without bad characters."""
    field = field or key
    value = row.get(key)
    if _missing(row, key, ctx):
        if not required:
            return None
        what = "is missing" if key not in row else ("is null" if value is None and not ctx.tabular else "is empty")
        raise RowError(f"required field {what}", field, f"give '{key}' a text value or remove the record")
    if ctx.tabular and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # spreadsheet cells holding a number
    if not isinstance(value, str):
        raise RowError(f"expected text, got {_type_name(value)}", field, f"make '{key}' a string")
    check_text(value, field)
    if required and not value.strip():
        raise RowError("required field is empty", field, f"give '{key}' a text value or remove the record")
    return value


UNANSWERED_HINT = "instructions without answers are read with --allow-unanswered (require_answer=False)"


def answer_missing(row: dict[str, Any], key: str, ctx: RowContext, *, lists: bool = False) -> bool:
    """True when the answer field is absent or blank and answers are optional; raises
    RowError when it is absent or blank and an answer is required. `lists`: an empty
    message list counts as blank too (fields that may hold messages)."""
    value = _maybe_json(row.get(key), ctx, list) if lists else row.get(key)
    if not (value is None or (lists and value == []) or (isinstance(value, str) and not value.strip())):
        return False
    if not ctx.require_answer:
        return True
    what = "is missing" if key not in row else ("is null" if row[key] is None and not ctx.tabular else "is empty")
    raise RowError(f"required field {what}", key, f"give '{key}' the answer or remove the record; {UNANSWERED_HINT}")


def get_answer(row: dict[str, Any], key: str, ctx: RowContext) -> str | None:
    """An answer text field; None when it is missing or blank and answers are optional."""
    return None if answer_missing(row, key, ctx) else get_text(row, key, ctx)


def get_id(row: dict[str, Any], keys: tuple[str, ...], ctx: RowContext) -> str:
    for key in keys:
        value = row.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise RowError(f"expected text or a number, got {_type_name(value)}", key, "ids are strings")
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # Excel stores 12 as 12.0
        text = str(value)
        check_text(text, key)
        return text
    return f"{ctx.stem}-{ctx.line}"  # stable: the same file gives the same ids


def _maybe_json(value: Any, ctx: RowContext, want: type | tuple[type, ...]) -> Any:
    """Cells carry nested fields as JSON text; parse them back when that is what it is."""
    if ctx.tabular and isinstance(value, str) and value[:1] in "[{":
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return value
        # a text cell that merely looks like JSON ("[1, 2]") is not a message list
        if isinstance(parsed, want) and not (isinstance(parsed, list) and not all(isinstance(x, dict) for x in parsed)):
            return parsed
    return value


def get_metadata(row: dict[str, Any], key: str, ctx: RowContext, known: frozenset[str]) -> dict[str, Any]:
    """`metadata` (or ichikara's `meta`) plus unknown top-level fields under `extra`."""
    value = row.get(key)
    meta: dict[str, Any] = {}
    if value is not None and value != "":
        if isinstance(value, str):  # JSON text in a cell or a string column
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise RowError(f"not valid JSON text: {exc.msg}", key, "write an object like {\"source\": \"...\"}") from None
        if not isinstance(value, dict):
            raise RowError(f"expected an object, got {_type_name(value)}", key, "write an object like {\"source\": \"...\"}")
        meta = dict(value)
    extra = {}
    for k, v in row.items():
        if k in known or v is None or (ctx.tabular and v == ""):
            continue
        extra[k] = _maybe_json(v, ctx, (dict, list))
    if extra:
        meta["extra"] = {**meta.get("extra", {}), **extra} if isinstance(meta.get("extra"), dict) else extra
    _check_nested(meta, key)
    return meta


def _check_nested(value: Any, field: str) -> None:
    if isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_nested(k, field)
            _check_nested(v, f"{field}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_nested(v, f"{field}[{i}]")


def dump_metadata(meta: Provenance) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metadata to write, extra fields to put back at the top level)."""
    data = meta.model_dump(exclude_defaults=True, exclude_none=True)
    if meta.language is None:
        data["language"] = None  # an explicit "no language" differs from the default "ja"
    extra = data.pop("extra", None)
    return data, extra if isinstance(extra, dict) else {}


def _reserved() -> frozenset[str]:
    return frozenset().union(*(f.known for f in FORMATS.values()))


def _with_extra(row: dict[str, Any], extra: dict[str, Any], meta_key: str = "metadata") -> dict[str, Any]:
    """Extra fields go back to the top level, unless some format uses that name: then they
    stay in metadata.extra, so they neither clash with a field nor mislead format detection."""
    reserved = _reserved()
    for k, v in extra.items():
        if k in reserved:
            row.setdefault(meta_key, {}).setdefault("extra", {})[k] = v
        else:
            row[k] = v
    return row


ROLE_NAMES = {
    "user": "user", "human": "user",
    "assistant": "assistant", "gpt": "assistant", "chatgpt": "assistant", "model": "assistant",
    "bard": "assistant", "bing": "assistant",
    "system": "system",
}


def get_messages(
    value: Any, field: str, ctx: RowContext, *, role_key: str = "role", content_key: str = "content"
) -> tuple[str | None, list[Msg]]:
    """A message list -> (system prompt, messages); a leading system message becomes the prompt."""
    value = _maybe_json(value, ctx, list)
    if value is None or (ctx.tabular and value == ""):
        raise RowError("required field is missing", field, f"give '{field}' a list of messages")
    if not isinstance(value, list):
        raise RowError(f"expected a list of messages, got {_type_name(value)}", field,
                       f"write [{{\"{role_key}\": \"user\", \"{content_key}\": \"...\"}}, ...]")
    system: str | None = None
    out: list[Msg] = []
    for i, item in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise RowError(f"expected a message object, got {_type_name(item)}", where,
                           f"write {{\"{role_key}\": ..., \"{content_key}\": ...}}")
        raw_role = item.get(role_key)
        if not isinstance(raw_role, str):
            what = "is missing" if raw_role is None else f"is {_type_name(raw_role)}"
            raise RowError(f"role {what}", f"{where}.{role_key}", "use user, assistant or system")
        role = ROLE_NAMES.get(raw_role.strip().lower())
        if role is None:
            raise RowError(f"unknown role '{raw_role}'", f"{where}.{role_key}",
                           f"use one of: {', '.join(sorted(ROLE_NAMES))}")
        if isinstance(item.get(content_key), list):  # OpenAI content parts
            item = {content_key: _text_parts(item[content_key], f"{where}.{content_key}")}
        content = get_text(item, content_key, ctx, field=f"{where}.{content_key}")
        if role == "system":
            if i != 0:
                raise RowError("a system message may only come first", f"{where}.{role_key}",
                               "move it to the start or into the record's 'system' field")
            system = content
            continue
        out.append({"role": role, "content": content})
    return system, out


def _text_parts(parts: list[Any], field: str) -> str:
    """OpenAI's `content: [{"type": "text", "text": ...}, ...]`, joined; other part types cannot be kept."""
    texts = []
    for i, part in enumerate(parts):
        if not (isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)):
            raise RowError("only text content parts are supported", f"{field}[{i}]",
                           'write {"type": "text", "text": "..."} or plain text')
        texts.append(part["text"])
    return "".join(texts)


def check_turns(messages: list[Msg], field: str, offset: int = 0, start: str = "user",
                require_answer: bool = True) -> None:
    """Roles alternate, starting with `start`, and the chat ends with the assistant
    (or, without `require_answer`, with either role)."""
    if not messages:
        raise RowError("has no user/assistant messages", field, "add at least a user message and an answer")
    expected = start
    for i, m in enumerate(messages):
        if m["role"] != expected:
            raise RowError(f"roles must alternate user/assistant: expected {expected}, got {m['role']}",
                           f"{field}[{i + offset}].role", "merge or reorder the messages")
        expected = "assistant" if expected == "user" else "user"
    if require_answer and messages[-1]["role"] != "assistant":
        raise RowError("the conversation does not end with an assistant message",
                       f"{field}[{len(messages) - 1 + offset}]",
                       f"add the answer or drop the last user turn; {UNANSWERED_HINT}")


def _validated(model: type[Record], data: dict[str, Any], meta_key: str) -> Record:
    # One pydantic call per record: faster than building each message (100k records in seconds).
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] == "metadata":
            loc[0] = meta_key
        raise RowError(err["msg"], ".".join(loc), "fix the value or remove the key") from None


def _conversation(id_: str, system: str | None, messages: list[Msg], meta: dict[str, Any],
                  meta_key: str = "metadata") -> Conversation:
    data = {"id": id_, "system": system, "messages": messages, "metadata": meta}
    return _validated(Conversation, data, meta_key)  # type: ignore[return-value]


def _merge_system(top: str | None, inner: str | None, field: str) -> str | None:
    if top is not None and inner is not None and top != inner:
        raise RowError("both a 'system' field and a different system message", field,
                       "keep one system prompt")
    return top if top is not None else inner


def _messages_json(messages: list[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def _need_conversation(record: Record, fmt: str) -> Conversation:
    if not isinstance(record, Conversation):
        raise RowError(f"the {fmt} format holds conversations, this is a preference pair", None,
                       "write preference pairs with --to preference")
    return record


def _single_turn(conv: Conversation, fmt: str) -> tuple[str, str]:
    """(question, answer); an instruction without an answer gives an empty answer."""
    if len(conv.messages) == 1 and conv.messages[0].role == "user":
        return conv.messages[0].content, ""
    if len(conv.messages) != 2:
        raise RowError(
            f"the {fmt} format holds one question and one answer; this record has "
            f"{len(conv.messages)} messages", "messages", "convert to messages or sharegpt instead")
    return conv.messages[0].content, conv.messages[1].content


def _turn(question: str | None, answer: str | None) -> list[Msg]:
    """A question and its answer (if any) as messages."""
    user = {"role": "user", "content": question or ""}
    return [user] if answer is None else [user, {"role": "assistant", "content": answer}]


# ---------------------------------------------------------------- messages (native, OpenAI)

_MESSAGES_KNOWN = frozenset({"id", "system", "messages", "metadata"})


def read_messages(row: dict[str, Any], ctx: RowContext) -> Conversation:
    top = get_text(row, "system", ctx, required=False)
    inner, messages = get_messages(row.get("messages"), "messages", ctx)
    check_turns(messages, "messages", offset=1 if inner is not None else 0, require_answer=ctx.require_answer)
    return _conversation(get_id(row, ("id",), ctx), _merge_system(top, inner, "messages"),
                         messages, get_metadata(row, "metadata", ctx, _MESSAGES_KNOWN))


def write_messages(record: Record) -> dict[str, Any]:
    conv = _need_conversation(record, "messages")
    meta, extra = dump_metadata(conv.metadata)
    row: dict[str, Any] = {"id": conv.id}
    if conv.system is not None:
        row["system"] = conv.system
    row["messages"] = _messages_json(conv.messages)
    if meta:
        row["metadata"] = meta
    return _with_extra(row, extra)


# ---------------------------------------------------------------- sharegpt

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
    return _conversation(get_id(row, ("id",), ctx), _merge_system(top, inner, "conversations"),
                         messages, get_metadata(row, "metadata", ctx, _SHAREGPT_KNOWN))


def write_sharegpt(record: Record) -> dict[str, Any]:
    conv = _need_conversation(record, "sharegpt")
    meta, extra = dump_metadata(conv.metadata)
    turns = [{"from": "system", "value": conv.system}] if conv.system is not None else []
    turns += [{"from": _SHAREGPT_ROLE[m.role], "value": m.content} for m in conv.messages]
    row: dict[str, Any] = {"id": conv.id, "conversations": turns}
    if meta:
        row["metadata"] = meta
    return _with_extra(row, extra)


# ---------------------------------------------------------------- alpaca

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
    messages = _turn(user, output)
    return _conversation(get_id(row, ("id",), ctx), get_text(row, "system", ctx, required=False),
                         messages, meta)


def write_alpaca(record: Record) -> dict[str, Any]:
    conv = _need_conversation(record, "alpaca")
    user, answer = _single_turn(conv, "alpaca")
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
    if meta:
        row["metadata"] = meta
    return _with_extra(row, extra)


# ---------------------------------------------------------------- ichikara-instruction

_ICHIKARA_KNOWN = frozenset({"ID", "id", "text", "output", "meta", "system"})


def read_ichikara(row: dict[str, Any], ctx: RowContext) -> Conversation:
    messages = _turn(get_text(row, "text", ctx), get_answer(row, "output", ctx))
    return _conversation(get_id(row, ("ID", "id"), ctx), get_text(row, "system", ctx, required=False),
                         messages, get_metadata(row, "meta", ctx, _ICHIKARA_KNOWN), "meta")


def write_ichikara(record: Record) -> dict[str, Any]:
    conv = _need_conversation(record, "ichikara")
    text, output = _single_turn(conv, "ichikara")
    meta, extra = dump_metadata(conv.metadata)
    row: dict[str, Any] = {"ID": conv.id, "text": text, "output": output}
    if meta:
        row["meta"] = meta
    if conv.system is not None:
        row["system"] = conv.system
    return _with_extra(row, extra, "meta")


# ---------------------------------------------------------------- prompt / completion

_PC_KNOWN = frozenset({"id", "prompt", "completion", "system", "metadata"})


def _prompt_part(row: dict[str, Any], key: str, ctx: RowContext) -> tuple[str | None, list[Msg]]:
    value = _maybe_json(row.get(key), ctx, list)
    if isinstance(value, list):
        return get_messages(value, key, ctx)
    return None, [{"role": "user", "content": get_text(row, key, ctx)}]


def _answer_part(row: dict[str, Any], key: str, ctx: RowContext) -> list[Msg]:
    value = _maybe_json(row.get(key), ctx, list)
    if isinstance(value, list):
        system, messages = get_messages(value, key, ctx)
        if system is not None:
            raise RowError("a system message cannot be part of an answer", f"{key}[0].role",
                           "put the system prompt in 'prompt' or 'system'")
        if not messages:
            raise RowError("has no messages", key, "write the answer as text or [{\"role\": \"assistant\", ...}]")
        return messages
    return [{"role": "assistant", "content": get_text(row, key, ctx)}]


def _check_prompt(prompt: list[Msg], field: str, offset: int) -> None:
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
    inner, prompt = _prompt_part(row, "prompt", ctx)
    _check_prompt(prompt, "prompt", 1 if inner is not None else 0)
    completion: list[Msg] = []
    if not answer_missing(row, "completion", ctx, lists=True):
        completion = _answer_part(row, "completion", ctx)
        check_turns(completion, "completion", start="assistant")
    system = _merge_system(get_text(row, "system", ctx, required=False), inner, "prompt")
    return _conversation(get_id(row, ("id",), ctx), system, prompt + completion,
                         get_metadata(row, "metadata", ctx, _PC_KNOWN))


def write_prompt_completion(record: Record) -> dict[str, Any]:
    conv = _need_conversation(record, "prompt_completion")
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
        row["prompt"] = head + _messages_json(prompt)
        row["completion"] = _messages_json(conv.messages[-1:]) if answered else ""
    if meta:
        row["metadata"] = meta
    return _with_extra(row, extra)


# ---------------------------------------------------------------- preference

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
        raise RowError(f"expected a number, got {_type_name(value)}", key, "write a number or leave it out")
    return float(value)


def read_preference(row: dict[str, Any], ctx: RowContext) -> PreferencePair:
    inner, prompt = _prompt_part(row, "prompt", ctx)
    _check_prompt(prompt, "prompt", 1 if inner is not None else 0)
    answers = {}
    for key in ("chosen", "rejected"):
        answers[key] = _answer_part(row, key, ctx)
        check_turns(answers[key], key, start="assistant")
    system = _merge_system(get_text(row, "system", ctx, required=False), inner, "prompt")
    data = {
        "id": get_id(row, ("id",), ctx), "system": system, "prompt": prompt,
        "chosen": answers["chosen"], "rejected": answers["rejected"],
        "chosen_score": _score(row, "chosen_score", ctx), "rejected_score": _score(row, "rejected_score", ctx),
        "metadata": get_metadata(row, "metadata", ctx, _PREF_KNOWN),
    }
    return _validated(PreferencePair, data, "metadata")  # type: ignore[return-value]


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
        row["prompt"] = head + _messages_json(record.prompt)
        row["chosen"], row["rejected"] = _messages_json(record.chosen), _messages_json(record.rejected)
    for key in ("chosen_score", "rejected_score"):
        if getattr(record, key) is not None:
            row[key] = getattr(record, key)
    if meta:
        row["metadata"] = meta
    return _with_extra(row, extra)


register(Format("messages", "conversation", ("messages",), _MESSAGES_KNOWN, read_messages, write_messages,
                "native/OpenAI: {id, system?, messages: [{role, content}], metadata?}"))
register(Format("sharegpt", "conversation", ("conversations",), _SHAREGPT_KNOWN, read_sharegpt,
                write_sharegpt, "{conversations: [{from: human|gpt|system, value}]}"))
register(Format("alpaca", "conversation", ("instruction", "output"), _ALPACA_KNOWN, read_alpaca,
                write_alpaca, "{instruction, input, output}", ("instruction",)))
register(Format("ichikara", "conversation", ("text", "output"), _ICHIKARA_KNOWN, read_ichikara,
                write_ichikara, "ichikara-instruction: {ID, text, output, meta?}", ("text",)))
register(Format("prompt_completion", "conversation", ("prompt", "completion"), _PC_KNOWN,
                read_prompt_completion, write_prompt_completion,
                "{prompt, completion} as strings or message lists", ("prompt",)))
register(Format("preference", "preference", ("prompt", "chosen", "rejected"), _PREF_KNOWN,
                read_preference, write_preference,
                "{prompt, chosen, rejected} as strings or message lists"))
