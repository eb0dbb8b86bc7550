"""Greedy generation, batched with left padding, cut at the first stop string.

Prompts are encoded and truncated by `oshie.eval.encoding.encode_prompt` (lm-eval's rule);
the runner encodes them itself to count truncation, other callers pass text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from oshie.errors import require
from oshie.eval.encoding import EncodedPrompt, encode_prompt
from oshie.eval.lm import LocalModel
from oshie.eval.requests import GenerateRequest, run_longest_first


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    cut = len(text)
    for s in stops:
        if s and (k := text.find(s)) != -1:
            cut = min(cut, k)
    return text[:cut]


def generate_batch(lm: LocalModel, requests: Sequence[GenerateRequest],
                   encoded: Sequence[EncodedPrompt] | None = None) -> list[str]:
    torch = require("torch", "train")
    tok = lm.tokenizer
    if encoded is None:
        encoded = [encode_prompt(lm, r.prompt, r.max_new_tokens) for r in requests]
    prompts = [e.ids for e in encoded]
    max_new = max(r.max_new_tokens for r in requests)
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), tok.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p)
        mask[i, width - len(p) :] = 1
    stops = sorted({s for r in requests for s in r.stop if s})
    kwargs = {"stop_strings": stops, "tokenizer": tok} if stops else {}
    with torch.inference_mode():
        out = lm.model.generate(
            input_ids=ids.to(lm.device), attention_mask=mask.to(lm.device),
            max_new_tokens=max_new, do_sample=False, pad_token_id=tok.pad_token_id,
            **kwargs,
        )
    texts = []
    for r, row in zip(requests, out[:, width:], strict=True):
        new = [t for t in row.tolist()][: r.max_new_tokens]
        # cut at EOS before decoding so padding after a finished row never leaks in
        if tok.eos_token_id is not None and tok.eos_token_id in new:
            new = new[: new.index(tok.eos_token_id)]
        text = tok.decode(new, skip_special_tokens=True)
        texts.append(cut_at_stop(text, r.stop))
    return texts


def generate_requests(
    lm: LocalModel,
    requests: Sequence[GenerateRequest],
    batch_size: int = 8,
    on_batch: Callable[[list[int], list[str]], None] | None = None,
    encoded: Sequence[EncodedPrompt] | None = None,
) -> list[str]:
    """Generate for all requests; similar prompt lengths share a batch; order preserved."""
    if encoded is None:
        encoded = [encode_prompt(lm, r.prompt, r.max_new_tokens) for r in requests]
    enc = encoded
    return run_longest_first(
        list(range(len(requests))), lambda i: len(enc[i].ids),
        lambda idx: generate_batch(lm, [requests[i] for i in idx], [enc[i] for i in idx]),
        batch_size, on_batch)
