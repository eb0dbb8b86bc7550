"""Training data: records in, token ids and labels out.

SFT examples are tokenised here (not inside TRL) so that truncation, the label mask
and token counts are known before training starts, and a dataset whose every example
is truncated away is an error instead of an empty run.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oshie.errors import DataError
from oshie.records import Conversation, Message, PreferencePair, Record

__all__ = [
    "IGNORE", "TokenStats", "as_conversation", "mix", "pack_texts", "preference_rows",
    "read_records", "sft_examples", "split_eval", "tokenize_conversation",
]


IGNORE = -100


def read_records(path: str | Path, fmt: str | None = None) -> list[Record]:
    """Read records with `oshie.data.io` (any supported file type and format)."""
    from oshie.data.io import load_records

    return list(load_records(path, fmt))


def mix(parts: Sequence[tuple[Sequence[Any], float]], seed: int) -> list[Any]:
    """Combine datasets; `weight` repeats whole copies and samples the fraction (seeded)."""
    rng = random.Random(seed)
    out: list[Any] = []
    for items, weight in parts:
        whole, frac = int(weight), weight - int(weight)
        out.extend(list(items) * whole)
        if frac > 0 and items:
            k = round(len(items) * frac)
            out.extend(rng.sample(list(items), k))
    return out


def as_conversation(record: Record) -> Conversation:
    """SFT trains on conversations; a preference pair contributes prompt + chosen."""
    if isinstance(record, Conversation):
        return record
    return Conversation(
        id=record.id, system=record.system, messages=record.prompt + record.chosen,
        metadata=record.metadata,
    )


@dataclass
class TokenStats:
    """Token and truncation counts of a prepared dataset, recorded in the run's manifest."""

    examples: int = 0
    dropped_truncated: int = 0  # nothing left to train on after truncation
    truncated: int = 0
    tokens: int = 0  # input tokens of the kept examples
    trained_tokens: int = 0  # tokens with a label
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counts for the manifest and the summary table."""
        return {k: v for k, v in asdict(self).items() if k != "extra"} | self.extra


def tokenize_conversation(
    tokenizer: Any, conversation: Conversation, template: str, assistant_only: bool = True
) -> tuple[list[int], list[int]]:
    """Render with the template; labels are the ids on trained tokens, -100 elsewhere."""
    out = tokenizer.apply_chat_template(
        conversation.chat(), chat_template=template, return_dict=True,
        return_assistant_tokens_mask=assistant_only,
    )
    ids = list(out["input_ids"])
    if not assistant_only:
        return ids, list(ids)
    mask = out["assistant_masks"]
    return ids, [t if m else IGNORE for t, m in zip(ids, mask, strict=True)]


def sft_examples(
    records: Sequence[Record],
    tokenizer: Any,
    template: str,
    max_length: int,
    assistant_only: bool = True,
) -> tuple[list[dict[str, list[int]]], TokenStats]:
    """Tokenised SFT rows (input_ids, labels), truncated to `max_length`."""
    rows: list[dict[str, list[int]]] = []
    stats = TokenStats()
    for record in records:
        ids, labels = tokenize_conversation(tokenizer, as_conversation(record), template, assistant_only)
        if len(ids) > max_length:
            stats.truncated += 1
            ids, labels = ids[:max_length], labels[:max_length]
        if all(label == IGNORE for label in labels):
            stats.dropped_truncated += 1
            continue
        rows.append({"input_ids": ids, "labels": labels})
        stats.tokens += len(ids)
        stats.trained_tokens += sum(label != IGNORE for label in labels)
    stats.examples = len(rows)
    return rows, stats


def preference_rows(records: Sequence[Record], source: str = "") -> list[dict[str, Any]]:
    """Conversational preference rows for TRL: prompt messages, chosen/rejected turns."""
    rows = []
    for record in records:
        if not isinstance(record, PreferencePair):
            raise DataError(
                "DPO needs preference pairs (prompt, chosen, rejected), got a conversation",
                path=source or None, field="chosen",
                hint="give a preference file, e.g. {\"prompt\": ..., \"chosen\": ..., \"rejected\": ...}",
            )
        prompt = ([Message(role="system", content=record.system)] if record.system else []) + record.prompt
        rows.append({
            "prompt": [m.model_dump() for m in prompt],
            "chosen": [m.model_dump() for m in record.chosen],
            "rejected": [m.model_dump() for m in record.rejected],
        })
    return rows


def pack_texts(
    texts: Sequence[str], tokenizer: Any, block_size: int
) -> tuple[list[dict[str, list[int]]], TokenStats]:
    """Tokenise documents, join them with the EOS token, cut into full blocks.

    The tail shorter than a block is dropped (it would need padding).
    """
    eos = tokenizer.eos_token_id
    stream: list[int] = []
    for text in texts:
        stream.extend(tokenizer(text, add_special_tokens=False)["input_ids"])
        if eos is not None:
            stream.append(eos)
    n_blocks = len(stream) // block_size
    rows = [
        {"input_ids": stream[i * block_size:(i + 1) * block_size]} for i in range(n_blocks)
    ]
    stats = TokenStats(examples=n_blocks, tokens=n_blocks * block_size, trained_tokens=n_blocks * block_size)
    stats.extra = {"documents": len(texts), "corpus_tokens": len(stream), "dropped_tail_tokens": len(stream) - n_blocks * block_size}
    return rows, stats


def split_eval(rows: list[Any], fraction: float, seed: int) -> tuple[list[Any], list[Any]]:
    """Seeded hold-out split; at least one row each side when fraction > 0."""
    if fraction <= 0 or len(rows) < 2:
        return rows, []
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_eval = min(len(rows) - 1, max(1, round(len(rows) * fraction)))
    held = set(order[:n_eval])
    return [r for i, r in enumerate(rows) if i not in held], [rows[i] for i in sorted(held)]
