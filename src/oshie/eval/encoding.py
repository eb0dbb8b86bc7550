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

Truncation (`--truncation left`, the default, lm-eval's rule): a sequence longer than the
window plus one keeps its last `window + 1` tokens (the model sees at most `window`),
so the continuation is never cut; a generation prompt keeps its last
`window - max_new_tokens`. Every cut is counted per item; `--truncation error` refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from oshie.errors import DataError, UsageError
from oshie.eval.lm import LocalModel
from oshie.eval.requests import LoglikRequest

ENCODINGS = ("joint", "separate")
TRUNCATIONS = ("left", "error")


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
    dropped: int = 0    # tokens cut from the left
    kept_from: int = 0  # character of the prompt where the kept text begins


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


def encode_prompt(lm: LocalModel, prompt: str, max_new_tokens: int) -> EncodedPrompt:
    """A generation prompt, keeping its last `window - max_new_tokens` tokens."""
    room = lm.max_length - max_new_tokens
    if room <= 0:
        raise UsageError(f"max_new_tokens {max_new_tokens} leaves no room in the window of "
                         f"{lm.max_length} tokens", hint="lower --max-new-tokens")
    ids = lm.encode_text(prompt)
    over = max(0, len(ids) - room)
    if not over:
        return EncodedPrompt(ids)
    return EncodedPrompt(ids[over:], over, lm.char_start(prompt, over))
