"""Chat templates for training: which tokens of a conversation carry loss.

Training needs a template that wraps assistant content in `{% generation %}` ...
`{% endgeneration %}` so the tokenizer can return an assistant mask. oshie ships
ChatML with those markers (assistant content *and* its `<|im_end|>` are trained, so the
model learns to stop). A model's own template is used when it has the markers;
a template without them is refused unless the config asks for `template: chatml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from oshie.errors import ModelError, UsageError
from oshie.train.tokenizer import IM_END, IM_START

__all__ = [
    "SAMPLE_CONVERSATION",
    "MarkedConversation",
    "caret_view",
    "chatml_template",
    "ensure_chatml_tokens",
    "has_generation_markers",
    "mark_trained_tokens",
    "resolve_template",
]


_GENERATION_RE = re.compile(r"\{%-?\s*generation\s*-?%\}")

# A Japanese multi-turn sample for `oshie template show`.
SAMPLE_CONVERSATION: list[dict[str, str]] = [
    {"role": "system", "content": "あなたは丁寧な日本語で答えるアシスタントです。"},
    {"role": "user", "content": "富士山の高さを教えてください。"},
    {"role": "assistant", "content": "富士山の高さは3,776メートルです。"},
    {"role": "user", "content": "では、日本で二番目に高い山は？"},
    {"role": "assistant", "content": "北岳で、標高は3,193メートルです。"},
]


def chatml_template() -> str:
    """The shipped ChatML template with generation markers."""
    return (
        resources.files("oshie")
        .joinpath("resources/chat_templates/chatml.jinja")
        .read_text("utf-8")
    )


def has_generation_markers(template: str | None) -> bool:
    """Whether a chat template marks assistant turns, so the loss can fall on them alone."""
    return bool(template) and bool(_GENERATION_RE.search(template or ""))


def resolve_template(tokenizer: Any, choice: str = "auto", *, source: str = "") -> str:
    """Pick the training template for `tokenizer`.

    `choice`: "auto" (the model's own template if it has generation markers, ChatML when
    it has none), "chatml" (always ChatML), "model" (the model's own, must have markers),
    or a path to a Jinja file with markers.
    """
    own = getattr(tokenizer, "chat_template", None)
    if isinstance(own, dict):  # several named templates: the default one is used for chat
        own = own.get("default")
    if choice == "chatml":
        return chatml_template()
    if choice in ("auto", "model"):
        if has_generation_markers(own):
            return own
        if choice == "auto" and not own:
            return chatml_template()
        what = "has a chat template without {% generation %} markers" if own else "has no chat template"
        raise ModelError(
            f"the model's tokenizer {what}, so assistant turns cannot be marked for the loss",
            path=source or None,
            field="template",
            hint="set 'template: chatml' to train with oshie's ChatML template, "
            "or give a Jinja file that wraps assistant content in {% generation %}...{% endgeneration %}",
        )
    path = Path(choice)
    if not path.is_file():
        raise UsageError(
            f"template '{choice}' is neither 'auto', 'chatml', 'model' nor an existing Jinja file",
            field="template",
        )
    text = path.read_text("utf-8")
    if not has_generation_markers(text):
        raise ModelError(
            "this template cannot mark assistant turns: it has no {% generation %} block",
            path=path,
            field="template",
            hint="wrap each assistant message's content (and its end-of-turn token) in "
            "{% generation %}...{% endgeneration %}",
        )
    return text


def ensure_chatml_tokens(tokenizer: Any, model: Any | None = None) -> int:
    """Add `<|im_start|>`/`<|im_end|>` as special tokens when missing; resize embeddings.

    Returns how many tokens were added (a real base model without ChatML tokens).
    """
    vocab = tokenizer.get_vocab()
    missing = [t for t in (IM_START, IM_END) if t not in vocab]
    if not missing:
        return 0
    tokenizer.add_special_tokens({"additional_special_tokens": missing})
    if model is not None:
        model.resize_token_embeddings(len(tokenizer))
    return len(missing)


@dataclass
class MarkedConversation:
    """A rendered conversation with, per token, whether it is trained."""

    text: str
    token_ids: list[int]
    tokens: list[str]  # the text each token adds ("" for the tail bytes of a split character)
    offsets: list[tuple[int, int]]
    trained: list[bool]

    @property
    def n_trained(self) -> int:
        """How many tokens carry a training label."""
        return sum(self.trained)


def mark_trained_tokens(
    tokenizer: Any, messages: list[dict[str, str]], template: str
) -> MarkedConversation:
    """Render `messages` and mark, token by token, what the assistant-only loss trains."""
    text = tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False)
    out = tokenizer.apply_chat_template(
        messages, chat_template=template, return_dict=True, return_assistant_tokens_mask=True
    )
    ids = list(out["input_ids"])
    mask = list(out["assistant_masks"])
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offsets = [tuple(o) for o in enc["offset_mapping"]]
    if list(enc["input_ids"]) != ids:  # rendering then tokenising must give the same ids
        offsets = [(0, 0)] * len(ids)
    return MarkedConversation(text, ids, _pieces(text, offsets), offsets, [bool(m) for m in mask])


def _pieces(text: str, offsets: list[tuple[int, int]]) -> list[str]:
    """The text each token adds. Byte-level tokens that split one character share its
    offsets: the first shows the character, the rest show nothing."""
    pieces, seen = [], 0
    for start, end in offsets:
        pieces.append(text[max(start, seen):end])
        seen = max(seen, end)
    return pieces


def caret_view(marked: MarkedConversation, width: int = 100) -> list[tuple[str, str]]:
    """Token-aligned lines: (tokens separated by '|', '^' under every trained token).

    A newline token shows as '↵' and ends the line; wide (CJK) characters count as
    two cells so the carets line up in a terminal.
    """
    from rich.cells import cell_len

    pairs: list[tuple[str, str]] = []
    top, bottom = "", ""
    for token, trained in zip(marked.tokens, marked.trained, strict=True):
        shown = token.replace("\n", "↵") or "·"
        cell = shown + "|"
        if top and cell_len(top) + cell_len(cell) > width:
            pairs.append((top, bottom))
            top, bottom = "", ""
        top += cell
        bottom += ("^" if trained else " ") * cell_len(shown) + " "
        if token.endswith("\n"):
            pairs.append((top, bottom))
            top, bottom = "", ""
    if top:
        pairs.append((top, bottom))
    return pairs
