"""Greedy generation, batched with left padding, cut at the first stop string."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from oshie.errors import require
from oshie.eval.lm import LocalModel
from oshie.eval.requests import GenerateRequest, run_longest_first


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    cut = len(text)
    for s in stops:
        if s and (k := text.find(s)) != -1:
            cut = min(cut, k)
    return text[:cut]


def generate_batch(lm: LocalModel, requests: Sequence[GenerateRequest]) -> list[str]:
    torch = require("torch", "train")
    tok = lm.tokenizer
    prompts = [lm.prefix_ids + lm.encode(r.prompt) for r in requests]
    max_new = max(r.max_new_tokens for r in requests)
    room = lm.max_length - max_new
    prompts = [p[-room:] if len(p) > room else p for p in prompts]
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
) -> list[str]:
    """Generate for all requests; similar prompt lengths share a batch; order preserved."""
    return run_longest_first(requests, lambda r: len(r.prompt), lambda batch: generate_batch(lm, batch),
                             batch_size, on_batch)
