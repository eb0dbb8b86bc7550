"""Log-likelihood scoring of continuations with the context's forward pass shared.

Tokenisation boundary (defined here, relied on by tests and the bench): the context and
each continuation are tokenised *separately* (no special tokens) and their ids
concatenated, with BOS first when the tokenizer has one. A choice's score is the sum of
log-softmax over its tokens given everything before it.

Per batch of requests: one forward pass over the left-padded contexts (keeping the KV
cache), the cache is then gathered once per continuation and the continuations run
from it, so a 5-choice question costs one context pass instead of five.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oshie.errors import DataError, require
from oshie.eval.lm import LocalModel
from oshie.eval.requests import ChoiceScore, LoglikRequest, run_longest_first


def _encode_request(lm: LocalModel, req: LoglikRequest) -> tuple[list[int], list[list[int]]]:
    ctx = lm.prefix_ids + lm.encode(req.context)
    conts = [lm.encode(c) for c in req.continuations]
    for c, ids in zip(req.continuations, conts, strict=True):
        if not ids:
            raise DataError(f"continuation {c!r} encodes to no tokens", hint="use non-empty choices")
    room = lm.max_length - max(len(c) for c in conts)
    if len(ctx) > room:  # keep the end of the context: the question sits there
        ctx = ctx[len(ctx) - room :]
    return ctx, conts


def score_batch(lm: LocalModel, requests: Sequence[LoglikRequest]) -> list[list[ChoiceScore]]:
    """Score every continuation of every request; one context pass per request."""
    torch = require("torch", "train")
    encoded = [_encode_request(lm, r) for r in requests]
    pad = lm.tokenizer.pad_token_id
    dev = lm.device
    width = max(len(ctx) for ctx, _ in encoded)
    ids = torch.full((len(encoded), width), pad, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for i, (ctx, _) in enumerate(encoded):  # left padding: every context ends at column -1
        ids[i, width - len(ctx) :] = torch.tensor(ctx)
        mask[i, width - len(ctx) :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode():
        out = lm.model(
            input_ids=ids.to(dev), attention_mask=mask.to(dev), position_ids=positions.to(dev),
            use_cache=True, logits_to_keep=1,  # only the last position scores a first token
        )
        first_logp = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1)
        owner = [i for i, (_, conts) in enumerate(encoded) for _ in conts]
        conts_flat = [c for _, conts in encoded for c in conts]
        rest_len = max(len(c) for c in conts_flat) - 1
        rest_logp = None
        if rest_len > 0:
            # continuation tokens except the last are inputs; their outputs score the next token
            cache = out.past_key_values
            cache.batch_select_indices(torch.tensor(owner, device=dev))
            cids = torch.full((len(conts_flat), rest_len), pad, dtype=torch.long)
            cmask = torch.zeros((len(conts_flat), rest_len), dtype=torch.long)
            for r, c in enumerate(conts_flat):
                cids[r, : len(c) - 1] = torch.tensor(c[:-1])
                cmask[r, : len(c) - 1] = 1
            owner_t = torch.tensor(owner)
            full_mask = torch.cat([mask[owner_t], cmask], dim=1)
            ctx_len = mask.sum(-1)[owner_t].unsqueeze(1)
            cpos = ctx_len + torch.arange(rest_len).unsqueeze(0)
            out2 = lm.model(
                input_ids=cids.to(dev), attention_mask=full_mask.to(dev),
                position_ids=cpos.to(dev), past_key_values=cache, use_cache=True,
            )
            rest_logp = torch.log_softmax(out2.logits.float(), dim=-1)
    results: list[list[ChoiceScore]] = [[] for _ in encoded]
    for r, (i, c) in enumerate(zip(owner, conts_flat, strict=True)):
        total = float(first_logp[i, c[0]])
        greedy = int(first_logp[i].argmax()) == c[0]
        for t in range(1, len(c)):
            row: Any = rest_logp[r, t - 1]  # type: ignore[index]
            total += float(row[c[t]])
            greedy = greedy and int(row.argmax()) == c[t]
        k = len(results[i])
        results[i].append(
            ChoiceScore(requests[i].continuations[k], total, len(c), greedy)
        )
    return results


def score_requests(
    lm: LocalModel,
    requests: Sequence[LoglikRequest],
    batch_size: int = 8,
    on_batch: Any = None,
) -> list[list[ChoiceScore]]:
    """Score all requests, batching contexts of similar length together; order preserved."""
    return run_longest_first(requests, lambda r: len(r.context), lambda batch: score_batch(lm, batch),
                             batch_size, on_batch)
