"""Typed model requests. Tasks emit them; the runner batches them (tasks never touch the model).

- `LoglikRequest`: one shared context and several continuations (multiple choice, label
  words). The context is encoded once per request, not once per continuation.
- `GenerateRequest`: greedy generation from a prompt until a stop string.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LoglikRequest:
    context: str
    continuations: list[str]


@dataclass
class ChoiceScore:
    continuation: str
    logprob: float     # sum of log-probabilities of the continuation tokens
    n_tokens: int
    is_greedy: bool    # every continuation token was the argmax


@dataclass
class GenerateRequest:
    prompt: str
    max_new_tokens: int = 64
    stop: list[str] = field(default_factory=lambda: ["\n"])
