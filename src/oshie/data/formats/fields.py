"""Field helpers every format shares: text, answers, ids, metadata, message lists, turn order.

Fields a format does not know are kept in `metadata.extra` and written back as
top-level fields, so a round trip keeps them. Instructions without answers (synthesis
inputs) are read when `RowContext.require_answer` is False: a chat may end with the
user, and a missing or blank answer field gives a user-only `Conversation`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from oshie.data.formats.registry import FORMATS, RowContext, RowError
from oshie.records import Conversation, Message, Provenance, Record

Msg = dict[str, str]  # {"role", "content"}: records are validated once, as a whole, at the end


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


def type_name(value: Any) -> str:
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
        raise RowError(f"expected text, got {type_name(value)}", field, f"make '{key}' a string")
    check_text(value, field)
    if required and not value.strip():
        raise RowError("required field is empty", field, f"give '{key}' a text value or remove the record")
    return value


UNANSWERED_HINT = "instructions without answers are read with --allow-unanswered (require_answer=False)"


def answer_missing(row: dict[str, Any], key: str, ctx: RowContext, *, lists: bool = False) -> bool:
    """True when the answer field is absent or blank and answers are optional; raises
    RowError when it is absent or blank and an answer is required. `lists`: an empty
    message list counts as blank too (fields that may hold messages)."""
    value = maybe_json(row.get(key), ctx, list) if lists else row.get(key)
    if not (value is None or (lists and value == []) or (isinstance(value, str) and not value.strip())):
        return False
    if not ctx.require_answer:
        return True
    what = "is missing" if key not in row else ("is null" if row[key] is None and not ctx.tabular else "is empty")
    raise RowError(f"required field {what}", key, f"give '{key}' the answer or remove the record; {UNANSWERED_HINT}")


def get_answer(row: dict[str, Any], key: str, ctx: RowContext) -> str | None:
    """An answer text field; None when it is missing or blank and answers are optional."""
    return None if answer_missing(row, key, ctx) else get_text(row, key, ctx)


# Fields that name a record in common public sets (Dolly's `index`, ichikara's `ID`):
# the first present becomes the record id; without one, the record's place in the file.
ID_KEYS = ("id", "ID", "index")


def id_key(row: dict[str, Any], keys: tuple[str, ...] = ()) -> str | None:
    """The field the record id is read from (`keys` first, then `ID_KEYS`), if any."""
    for key in (*keys, *ID_KEYS):
        if row.get(key) not in (None, ""):
            return key
    return None


def get_id(row: dict[str, Any], keys: tuple[str, ...], ctx: RowContext) -> str:
    """The record id: from the source's id field when it has one, else `<file stem>-<line>`
    (`-<n>` for the n-th element of a JSON array), so no two records of a file share a made-up id."""
    key = id_key(row, keys)
    if key is not None:
        value = row[key]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise RowError(f"expected text or a number, got {type_name(value)}", key, "ids are strings")
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # Excel stores 12 as 12.0
        text = str(value)
        check_text(text, key)
        return text
    return f"{ctx.stem}-{ctx.position or ctx.line}"  # stable: the same file gives the same ids


def maybe_json(value: Any, ctx: RowContext, want: type | tuple[type, ...]) -> Any:
    """Cells carry nested fields as JSON text; parse them back when that is what it is."""
    if ctx.tabular and isinstance(value, str) and value[:1] in "[{":
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return value
        except RecursionError:
            raise RowError("the cell holds JSON nested too deeply to read", None,
                           "records are objects of text fields and message lists; flatten the data") from None
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
            except RecursionError:
                raise RowError("JSON nested too deeply to read", key, "flatten the metadata") from None
            except json.JSONDecodeError as exc:
                raise RowError(f"not valid JSON text: {exc.msg}", key, "write an object like {\"source\": \"...\"}") from None
        if not isinstance(value, dict):
            raise RowError(f"expected an object, got {type_name(value)}", key, "write an object like {\"source\": \"...\"}")
        meta = dict(value)
    # the id field in use is the record's id; other id-like fields are kept as extra
    known = (known - frozenset(ID_KEYS)) | {id_key(row) or "id"}
    extra = {}
    for k, v in row.items():
        if k in known or v is None or (ctx.tabular and v == ""):
            continue
        extra[k] = maybe_json(v, ctx, (dict, list))
    category = extra.get("category")
    if isinstance(category, str) and "category" not in meta:  # Dolly-style top-level category
        meta["category"] = extra.pop("category")
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


def with_extra(row: dict[str, Any], extra: dict[str, Any], meta_key: str = "metadata") -> dict[str, Any]:
    """Extra fields go back to the top level, unless some format uses that name: then they
    stay in metadata.extra, so they neither clash with a field nor mislead format detection."""
    reserved = _reserved()
    for k, v in extra.items():
        if k in reserved:
            row.setdefault(meta_key, {}).setdefault("extra", {})[k] = v
        else:
            row[k] = v
    return row


def finish_row(row: dict[str, Any], meta: dict[str, Any], extra: dict[str, Any],
               meta_key: str = "metadata") -> dict[str, Any]:
    """What every writer does last: metadata (when there is any) after the fields, then the extra fields."""
    if meta:
        row[meta_key] = meta
    return with_extra(row, extra, meta_key)


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
    value = maybe_json(value, ctx, list)
    if value is None or (ctx.tabular and value == ""):
        raise RowError("required field is missing", field, f"give '{field}' a list of messages")
    if not isinstance(value, list):
        raise RowError(f"expected a list of messages, got {type_name(value)}", field,
                       f"write [{{\"{role_key}\": \"user\", \"{content_key}\": \"...\"}}, ...]")
    system: str | None = None
    out: list[Msg] = []
    for i, item in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise RowError(f"expected a message object, got {type_name(item)}", where,
                           f"write {{\"{role_key}\": ..., \"{content_key}\": ...}}")
        raw_role = item.get(role_key)
        if not isinstance(raw_role, str):
            what = "is missing" if raw_role is None else f"is {type_name(raw_role)}"
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


def validated(model: type[Record], data: dict[str, Any], meta_key: str) -> Record:
    # One pydantic call per record: faster than building each message (100k records in seconds).
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] == "metadata":
            loc[0] = meta_key
        raise RowError(err["msg"], ".".join(loc), "fix the value or remove the key") from None


def conversation(id_: str, system: str | None, messages: list[Msg], meta: dict[str, Any],
                  meta_key: str = "metadata") -> Conversation:
    data = {"id": id_, "system": system, "messages": messages, "metadata": meta}
    return validated(Conversation, data, meta_key)  # type: ignore[return-value]


def read_conversation(row: dict[str, Any], ctx: RowContext, known: frozenset[str], system: str | None,
                      messages: list[Msg], id_keys: tuple[str, ...] = ("id",),
                      meta_key: str = "metadata") -> Conversation:
    """What every conversation reader does last: the row's id and metadata around the messages it read."""
    return conversation(get_id(row, id_keys, ctx), system, messages,
                        get_metadata(row, meta_key, ctx, known), meta_key)


def read_chat(row: dict[str, Any], ctx: RowContext, key: str, known: frozenset[str], *,
              role_key: str = "role", content_key: str = "content") -> Conversation:
    """A conversation kept as one list of turns under `key` (native messages, ShareGPT), with an
    optional top-level `system` that must agree with a system turn. Errors name the format's own keys."""
    top = get_text(row, "system", ctx, required=False)
    inner, messages = get_messages(row.get(key), key, ctx, role_key=role_key, content_key=content_key)
    try:
        check_turns(messages, key, offset=1 if inner is not None else 0, require_answer=ctx.require_answer)
    except RowError as exc:
        if role_key == "role":
            raise
        raise RowError(exc.message, (exc.field or "").replace(".role", f".{role_key}"), exc.hint) from None
    return read_conversation(row, ctx, known, merge_system(top, inner, key), messages)


def merge_system(top: str | None, inner: str | None, field: str) -> str | None:
    if top is not None and inner is not None and top != inner:
        raise RowError("both a 'system' field and a different system message", field,
                       "keep one system prompt")
    return top if top is not None else inner


def messages_json(messages: list[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def need_conversation(record: Record, fmt: str) -> Conversation:
    if not isinstance(record, Conversation):
        raise RowError(f"the {fmt} format holds conversations, this is a preference pair", None,
                       "write preference pairs with --to preference")
    return record


def single_turn(conv: Conversation, fmt: str) -> tuple[str, str]:
    """(question, answer); an instruction without an answer gives an empty answer."""
    if len(conv.messages) == 1 and conv.messages[0].role == "user":
        return conv.messages[0].content, ""
    if len(conv.messages) != 2:
        raise RowError(
            f"the {fmt} format holds one question and one answer; this record has "
            f"{len(conv.messages)} messages", "messages", "convert to messages or sharegpt instead")
    return conv.messages[0].content, conv.messages[1].content


def turn(question: str | None, answer: str | None) -> list[Msg]:
    """A question and its answer (if any) as messages."""
    user = {"role": "user", "content": question or ""}
    return [user] if answer is None else [user, {"role": "assistant", "content": answer}]
