"""Typed model requests. Tasks emit them; the runner batches them (tasks never touch the model).

- `LoglikRequest`: one shared context and several continuations (multiple choice, label
  words). The context is encoded once per request, not once per continuation.
- `GenerateRequest`: greedy generation from a prompt until a stop string.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

R = TypeVar("R")
T = TypeVar("T")


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


def run_longest_first(
    requests: Sequence[R],
    length: Callable[[R], int],
    run_batch: Callable[[list[R]], list[T]],
    batch_size: int,
    on_batch: Callable[[list[int], list[Any]], None] | None = None,
) -> list[T]:
    """Run requests in batches of similar length (longest first: less padding per batch) and
    return the results in request order. `on_batch(indices, results)` follows each batch."""
    order = sorted(range(len(requests)), key=lambda i: -length(requests[i]))
    results: list[T | None] = [None] * len(requests)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        for i, result in zip(chunk, run_batch([requests[i] for i in chunk]), strict=True):
            results[i] = result
        if on_batch is not None:
            on_batch(chunk, [results[i] for i in chunk])
    return results  # type: ignore[return-value]
