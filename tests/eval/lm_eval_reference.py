"""lm-evaluation-harness's log-likelihood rule written out plainly, one sequence at a time.

The reference the batched, prefix-sharing scorer is held to: move the context's trailing
whitespace into the continuation, encode context + continuation together with the
tokenizer's own special tokens (none when the text already starts with the prefix token),
score the tokens after the context's encoded length, keep the last `window + 1` tokens.
"""

from __future__ import annotations


def encode_like_lm_eval(tok, text: str) -> list[int]:
    prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    kwargs = {"add_special_tokens": False} if text.startswith(tok.decode([prefix])) else {}
    return tok.encode(text, **kwargs)


def lm_eval_logprob(model, tok, context: str, continuation: str, window: int) -> float:
    import torch

    spaces = len(context) - len(context.rstrip())
    if spaces:
        continuation = context[-spaces:] + continuation
        context = context[:-spaces]
    whole = encode_like_lm_eval(tok, context + continuation)
    ctx = encode_like_lm_eval(tok, context)
    cont = whole[len(ctx):]
    seq = (ctx + cont)[-(window + 1):]
    inputs = seq[:-1]
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([inputs])).logits[0].float(), dim=-1)
    start = len(inputs) - len(cont)
    return sum(float(logp[start + t, token]) for t, token in enumerate(cont))


def lm_eval_logprobs(model, tok, context: str, continuations: list[str], window: int) -> list[float]:
    return [lm_eval_logprob(model, tok, context, c, window) for c in continuations]


def argmax(xs: list[float]) -> int:
    return max(range(len(xs)), key=xs.__getitem__)
