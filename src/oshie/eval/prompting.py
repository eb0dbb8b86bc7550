"""Named prompt templates shared by every task.

A task supplies an instruction, the input block of an item and its answer; a template
lays them out. Few-shot examples are the same layout with the answer filled in.

- `instruction`: `### 指示` / `### 入力` / `### 応答` blocks (Alpaca-style, common for Japanese SFT models)
- `plain`: the input block, then `答え:` (for base models)
- `chat`: the model's own chat template; each shot is a user/assistant turn
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from oshie.console import warn
from oshie.errors import UsageError

TEMPLATES = ("instruction", "plain", "chat")
SHOT_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Example:
    input: str
    answer: str


def _chatml(messages: Sequence[dict[str, str]]) -> str:
    # fallback for tokenizers without a chat template: the ChatML layout oshie trains with
    body = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return body + "<|im_start|>assistant\n"


def chat_formatter(tokenizer) -> Callable[[Sequence[dict[str, str]]], str]:
    """messages -> prompt text ending where the assistant's answer starts."""
    if getattr(tokenizer, "chat_template", None):
        def fmt(messages: Sequence[dict[str, str]]) -> str:
            return tokenizer.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=True
            )
        return fmt
    warn("the tokenizer has no chat template: the chat prompts use oshie's ChatML layout "
         "(<|im_start|>…); pass --template instruction or plain if the model was not trained on it")
    return _chatml


def build_prompt(
    template: str,
    instruction: str,
    query: str,
    shots: Sequence[Example] = (),
    chat: Callable[[Sequence[dict[str, str]]], str] | None = None,
    answer_prefix: str = "答え:",
) -> str:
    """The text the model continues; the answer follows it directly (no separator added)."""
    if template == "instruction":
        def block(inp: str) -> str:
            return f"### 指示:\n{instruction}\n\n### 入力:\n{inp}\n\n### 応答:\n"
        parts = [block(s.input) + s.answer for s in shots] + [block(query)]
        return SHOT_SEPARATOR.join(parts)
    if template == "plain":
        head = [instruction] if instruction else []
        parts = [f"{s.input}\n{answer_prefix}{s.answer}" for s in shots]
        return SHOT_SEPARATOR.join([*head, *parts, f"{query}\n{answer_prefix}"])
    if template == "chat":
        if chat is None:
            raise UsageError("the chat template needs the model's tokenizer")
        messages: list[dict[str, str]] = []
        for s in shots:
            messages += [
                {"role": "user", "content": f"{instruction}\n\n{s.input}"},
                {"role": "assistant", "content": s.answer},
            ]
        messages.append({"role": "user", "content": f"{instruction}\n\n{query}"})
        return chat(messages)
    raise UsageError(f"unknown prompt template '{template}'", hint=f"choose one of: {', '.join(TEMPLATES)}")
