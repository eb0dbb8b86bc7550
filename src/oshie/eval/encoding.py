"""From request text to token sequences: the tokenisation boundary and the truncation rule.

Encodings (`--encoding`, recorded in the manifest and the resume key):

- `joint` (default, as lm-evaluation-harness does): trailing whitespace of the context is
  moved into the continuation; context + continuation are encoded together and the
  continuation is every token after the context's own encoded length. With a tokenizer
  that puts "▁" before every text (Llama-2, llm-jp, Swallow) a choice is then scored on
  the tokens it really has after the prompt, not on "▁" + its tokens.
- `separate` (oshie's earlier convention): context and continuation are encoded
  separately without special tokens, BOS first whenever the tokenizer defines one.

An empty context becomes the prefix token (BOS, else EOS), as in lm-eval.

Truncation (`--truncation`, recorded in the manifest, the resume key and each task's
`truncated` entry with the items cut and the tokens cut):

- `left` (the default, lm-eval's rule): a sequence longer than the window plus one keeps its
  last `window + 1` tokens (the model sees at most `window`), so the continuation is never
  cut; a generation prompt keeps its last `window - max_new_tokens`.
- `input`: a generation prompt loses the start of the item's own input (the article to
  summarise, the question), keeping the instruction, the few-shot examples, the answer cue
  and the generation budget; scored choices are cut as `left` cuts them.
- `error`: an over-long prompt is refused with a message naming the task, the item, its
  token count and the window; nothing is scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oshie.errors import DataError, UsageError
from oshie.eval.lm import LocalModel
from oshie.eval.metrics.bootstrap import mean_entry
from oshie.eval.requests import LoglikRequest

ENCODINGS = ("joint", "separate")
TRUNCATIONS = ("left", "input", "error")
HOW = {
    "left": "the prompt's first tokens cut (lm-eval's rule); the generation budget kept",
    "input": "the start of the item's input cut; instruction, examples, answer cue and "
             "generation budget kept",
    "error": "over-long prompts refused",
}


@dataclass
class EncodedChoices:
    """One request as token sequences: per choice context + continuation ids, of which the
    last `cont_lens[k]` are scored; `cut[k]` tokens were dropped from the sequence's left."""

    seqs: list[list[int]]
    cont_lens: list[int]
    cut: list[int]
    kept_from: int = 0  # character of the context where the kept text begins (0: nothing cut)

    @property
    def dropped(self) -> int:
        return max(self.cut)


@dataclass
class EncodedPrompt:
    ids: list[int]
    dropped: int = 0    # tokens cut
    kept_from: int = 0  # `left`: character of the prompt where the kept text begins
    n_tokens: int = 0   # tokens of the whole prompt, before any cut
    cut_chars: tuple[int, int] | None = None  # `input`: the characters of the input removed

    def visible(self, prompt: str) -> str:
        """The part of `prompt` the model still sees."""
        if self.cut_chars is not None:
            return prompt[: self.cut_chars[0]] + prompt[self.cut_chars[1] :]
        return prompt[self.kept_from :]


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise UsageError(f"unknown {name} '{value}'", hint=f"choose one of: {', '.join(allowed)}")
    return value


def move_trailing_space(context: str, continuation: str) -> tuple[str, str]:
    """('答え: ', 'A') -> ('答え:', ' A'): the whitespace belongs to what follows it."""
    n = len(context) - len(context.rstrip())
    if n:
        return context[:-n], context[-n:] + continuation
    return context, continuation


def _joint(lm: LocalModel, req: LoglikRequest) -> tuple[list[int], list[list[int]], str]:
    if req.context == "":
        return _empty_context(lm, req)
    pairs = [move_trailing_space(req.context, c) for c in req.continuations]
    context = pairs[0][0]
    encoded = lm.encode_many([context] + [context + c for _, c in pairs])
    ctx = encoded[0]
    return ctx, [whole[len(ctx):] for whole in encoded[1:]], context


def _separate(lm: LocalModel, req: LoglikRequest) -> tuple[list[int], list[list[int]], str]:
    if req.context == "":
        return _empty_context(lm, req)
    ctx = lm.prefix_ids + lm.encode(req.context)
    return ctx, [lm.encode(c) for c in req.continuations], req.context


def _empty_context(lm: LocalModel, req: LoglikRequest) -> tuple[list[int], list[list[int]], str]:
    ctxs, conts = [], []
    for c in req.continuations:
        ids = lm.encode(c)
        if ids and ids[0] == lm.prefix_token_id:
            ctxs.append(ids[:1])
            conts.append(ids[1:])
        else:
            ctxs.append([lm.prefix_token_id])
            conts.append(ids)
    return ctxs[0], conts, ""


def encode_choices(lm: LocalModel, req: LoglikRequest, encoding: str = "joint") -> EncodedChoices:
    """Token sequences of one request, truncated from the left to the model's window."""
    ctx, conts, context = (_joint if encoding == "joint" else _separate)(lm, req)
    window = lm.max_length
    seqs, cut = [], []
    for text, cont in zip(req.continuations, conts, strict=True):
        if not cont:
            raise DataError(f"continuation {text!r} encodes to no tokens after the context",
                            hint="use non-empty choices")
        if len(cont) > window:
            raise DataError(f"continuation {text[:30]!r} is {len(cont)} tokens, longer than "
                            f"the window of {window}", hint="raise --max-length or shorten it")
        seq = ctx + cont
        over = max(0, len(seq) - (window + 1))
        seqs.append(seq[over:])
        cut.append(over)
    out = EncodedChoices(seqs, [len(c) for c in conts], cut)
    if out.dropped and context:
        if encoding == "joint":
            out.kept_from = lm.char_start(context, out.dropped)
        else:  # BOS (when added) is the first token; the text starts after it
            n_text = max(0, out.dropped - len(lm.prefix_ids))
            out.kept_from = len(lm.tokenizer.decode(lm.encode(context)[:n_text]))
    return out


def encode_prompt(lm: LocalModel, prompt: str, max_new_tokens: int, truncation: str = "left",
                  span: tuple[int, int] | None = None) -> EncodedPrompt:
    """A generation prompt that leaves `max_new_tokens` of the window for the answer: cut by
    the `left` rule, or (`input`, with the input's character `span`) inside the input."""
    room = lm.max_length - max_new_tokens
    if room <= 0:
        raise UsageError(f"max_new_tokens {max_new_tokens} leaves no room in the window of "
                         f"{lm.max_length} tokens", hint="lower --max-new-tokens")
    ids = lm.encode_text(prompt)
    over = max(0, len(ids) - room)
    if not over:
        return EncodedPrompt(ids, n_tokens=len(ids))
    if truncation == "input" and span is not None:
        return _cut_input(lm, prompt, ids, room, span)
    return EncodedPrompt(ids[over:], over, lm.char_start(prompt, over), len(ids))


def _cut_input(lm: LocalModel, prompt: str, ids: list[int], room: int,
               span: tuple[int, int]) -> EncodedPrompt:
    """Drop the fewest characters from the start of the input that make the prompt fit
    `room` tokens (a binary search over re-encodings: token boundaries move at the cut)."""
    start, end = span

    def encoded(k: int) -> list[int]:
        return lm.encode_text(prompt[:start] + prompt[start + k :])

    if len(encoded(end - start)) > room:
        raise DataError(f"even without its input the prompt is {len(encoded(end - start))} "
                        f"tokens, more than the {room} the window leaves for it",
                        hint="use fewer shots or a model with a longer window")
    lo, hi = 0, end - start  # encoded(lo) does not fit, encoded(hi) does
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if len(encoded(mid)) <= room else (mid, hi)
    kept = encoded(hi)
    return EncodedPrompt(kept, len(ids) - len(kept), 0, len(ids), (start, start + hi))


def input_span(prompt: str, text: str) -> tuple[int, int] | None:
    """Where the item's input sits in its prompt (its last occurrence: after any examples)."""
    at = prompt.rfind(text) if text else -1
    return (at, at + len(text)) if at >= 0 else None


def refusal(what: str, n_tokens: int, max_new_tokens: int, window: int,
            path: str | Path | None = None) -> DataError:
    """The `--truncation error` message: which item, how long, how large the window."""
    need = f"{n_tokens} tokens" + (f" + {max_new_tokens} to generate" if max_new_tokens else "")
    return DataError(
        f"{what}: the prompt needs {need}, over the model's window of {window} tokens",
        path=path, hint="use a model with a longer window (max_position_embeddings) or fewer "
        "shots, or let it be cut and counted: --truncation left / input (experiments: "
        "eval.truncation)")


def fit_generation(lm: LocalModel, prompt: str, max_new_tokens: int, truncation: str,
                   input_text: str, what: str, path: str | Path | None = None) -> EncodedPrompt:
    """One generation prompt under the run's truncation rule (the one entry point for every
    generation task: eval tasks and judged answers alike); `error` refuses, naming `what`."""
    try:
        enc = encode_prompt(lm, prompt, max_new_tokens, truncation, input_span(prompt, input_text))
    except DataError as exc:  # the item's instruction and examples alone overflow the window
        raise DataError(f"{what}: {exc.message}", path=path, hint=exc.hint) from exc
    if truncation == "error" and enc.dropped:
        raise refusal(what, enc.n_tokens, max_new_tokens, lm.max_length, path)
    return enc


def truncation_entries(cut_tokens: Sequence[int], lost: Sequence[bool], window: int,
                       truncation: str, seed: int = 0) -> dict[str, Any]:
    """How many prompts were cut to fit the window, by how many tokens and how; and how many
    of them lost what answers them (the question, the gold answer)."""
    cut = [t > 0 for t in cut_tokens]
    return {
        "truncated": mean_entry(
            cut, seed=seed, count=sum(cut), max_length=window, truncation=truncation,
            tokens_cut=int(sum(cut_tokens)), max_tokens_cut=int(max(cut_tokens, default=0)),
            note=f"prompts cut to fit {window} tokens: {HOW[truncation]}"),
        "answer_cut": mean_entry(list(lost), seed=seed, count=sum(lost),
                                 note="cut prompts that lost the question or the gold answer"),
    }


def truncation_summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """A task's truncation figures as the manifest records them."""
    t = metrics["truncated"]
    out = {"items_cut": t["count"], "max_length": t["max_length"], "rule": t["truncation"],
           "tokens_cut": t["tokens_cut"], "max_tokens_cut": t["max_tokens_cut"]}
    if "answer_cut" in metrics:
        out["answer_cut"] = metrics["answer_cut"]["count"]
    return out
