"""Log-likelihood scoring of continuations, exact per sequence, with shared work done once.

What is scored is defined in `oshie.eval.encoding` (lm-eval's joint encoding by default):
for every choice a token sequence whose last tokens are the continuation; its score is
the sum of log-softmax over those tokens given everything before them, exactly as if
the sequence ran alone.

Speed: the choices of one question share most of their tokens (the whole prompt, and
often the first tokens of the answer). The longest common prefix of their input tokens
runs once, left-padded in a batch with other questions' prefixes, keeping its KV cache
and the logits of the positions that score continuation tokens; the cache is then
gathered once per choice and only each choice's remaining tokens run from it. A
5-choice question costs one prompt pass instead of five.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from oshie.errors import require
from oshie.eval.encoding import EncodedChoices, encode_choices
from oshie.eval.lm import LocalModel
from oshie.eval.requests import ChoiceScore, LoglikRequest, run_longest_first


@dataclass
class _Group:
    """Choices of one request whose inputs share a prefix of `len(prefix)` tokens."""

    owner: int           # request index in the batch
    prefix: list[int]
    members: list[int]   # choice indices
    first_scored: int    # earliest input position whose logits score a continuation token


def common_prefix(seqs: Sequence[list[int]]) -> list[int]:
    """The longest list every one of `seqs` starts with."""
    first = seqs[0]
    n = min(len(s) for s in seqs)
    for s in seqs[1:]:
        k = 0
        while k < n and s[k] == first[k]:
            k += 1
        n = k
    return first[:n]


def _groups(i: int, enc: EncodedChoices) -> list[_Group]:
    by_cut: dict[int, list[int]] = {}
    for k, c in enumerate(enc.cut):  # choices cut differently start at different tokens
        by_cut.setdefault(c, []).append(k)
    groups = []
    for members in by_cut.values():
        inputs = [enc.seqs[k][:-1] for k in members]
        common = common_prefix(inputs)
        parts = [members] if common else [[k] for k in members]
        for part in parts:
            prefix = common if common else enc.seqs[part[0]][:-1]
            first = min(len(enc.seqs[k]) - enc.cont_lens[k] - 1 for k in part)
            groups.append(_Group(i, list(prefix), part, first))
    return groups


def score_batch(lm: LocalModel, encoded: Sequence[EncodedChoices]) -> list[list[tuple[float, bool]]]:
    """(log-prob, is_greedy) of every choice of every encoded request."""
    torch = require("torch", "train")
    groups = [g for i, enc in enumerate(encoded) for g in _groups(i, enc)]
    pad = lm.tokenizer.pad_token_id
    dev = lm.device
    width = max(len(g.prefix) for g in groups)
    keep = max(1, max(len(g.prefix) - g.first_scored for g in groups))
    ids = torch.full((len(groups), width), pad, dtype=torch.long)
    mask = torch.zeros((len(groups), width), dtype=torch.long)
    for r, g in enumerate(groups):  # left padding: every prefix ends at column -1
        ids[r, width - len(g.prefix):] = torch.tensor(g.prefix)
        mask[r, width - len(g.prefix):] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    rows = [(r, k) for r, g in enumerate(groups) for k in g.members
            if len(encoded[g.owner].seqs[k]) - 1 > len(g.prefix)]
    with torch.inference_mode():
        out = lm.model(input_ids=ids.to(dev), attention_mask=mask.to(dev),
                       position_ids=positions.to(dev), use_cache=bool(rows), logits_to_keep=keep)
        prefix_logp = torch.log_softmax(out.logits[:, -keep:, :].float(), dim=-1)
        rest_logp = None
        if rows:
            rest = [encoded[groups[r].owner].seqs[k][len(groups[r].prefix):-1] for r, k in rows]
            rest_len = max(len(x) for x in rest)
            owner = torch.tensor([r for r, _ in rows])
            cache = out.past_key_values
            cache.batch_select_indices(owner.to(dev))
            cids = torch.full((len(rows), rest_len), pad, dtype=torch.long)
            cmask = torch.zeros((len(rows), rest_len), dtype=torch.long)
            for j, x in enumerate(rest):
                cids[j, : len(x)] = torch.tensor(x)
                cmask[j, : len(x)] = 1
            plen = torch.tensor([len(groups[r].prefix) for r, _ in rows]).unsqueeze(1)
            out2 = lm.model(input_ids=cids.to(dev),
                            attention_mask=torch.cat([mask[owner], cmask], dim=1).to(dev),
                            position_ids=(plen + torch.arange(rest_len)).to(dev),
                            past_key_values=cache, use_cache=False)
            rest_logp = torch.log_softmax(out2.logits.float(), dim=-1)
    return _collect(encoded, groups, rows, keep, prefix_logp, rest_logp)


def _collect(encoded: Sequence[EncodedChoices], groups: list[_Group], rows: list[tuple[int, int]],
             keep: int, prefix_logp: Any, rest_logp: Any) -> list[list[tuple[float, bool]]]:
    """Sum each choice's target log-probs, reading each position's logits from the prefix
    pass or from the choice's row of the rest pass."""
    row_of = {rk: j for j, rk in enumerate(rows)}
    where: list[tuple[int, int, int, bool, int]] = []  # (request, choice, row, from prefix, col)
    targets: list[int] = []
    for r, g in enumerate(groups):
        p = len(g.prefix)
        for k in g.members:
            seq = encoded[g.owner].seqs[k]
            for t in range(len(seq) - encoded[g.owner].cont_lens[k], len(seq)):
                q = t - 1  # the input position whose logits predict token t
                if q < p:
                    where.append((g.owner, k, r, True, keep - p + q))
                else:
                    where.append((g.owner, k, row_of[(r, k)], False, q - p))
                targets.append(seq[t])
    values, greedy = _gather(where, targets, prefix_logp, rest_logp)
    scores = [[[0.0, True] for _ in enc.seqs] for enc in encoded]
    for (i, k, *_), v, gr in zip(where, values, greedy, strict=True):
        scores[i][k][0] += v
        scores[i][k][1] = scores[i][k][1] and gr
    return [[(float(s), bool(gr)) for s, gr in req] for req in scores]


def _gather(where: list[tuple[int, int, int, bool, int]], targets: list[int],
            prefix_logp: Any, rest_logp: Any) -> tuple[list[float], list[bool]]:
    torch = require("torch", "train")
    values = [0.0] * len(where)
    greedy = [False] * len(where)
    for from_prefix, logp in ((True, prefix_logp), (False, rest_logp)):
        idx = [n for n, w in enumerate(where) if w[3] == from_prefix]
        if not idx:
            continue
        rows = torch.tensor([where[n][2] for n in idx])
        cols = torch.tensor([where[n][4] for n in idx])
        toks = torch.tensor([targets[n] for n in idx])
        picked = logp[rows, cols, toks].tolist()
        best = logp[rows, cols].argmax(-1).tolist()
        for n, v, b in zip(idx, picked, best, strict=True):
            values[n] = v
            greedy[n] = b == targets[n]
    return values, greedy


def encode_requests(lm: LocalModel, requests: Sequence[LoglikRequest],
                    encoding: str = "joint") -> list[EncodedChoices]:
    return [encode_choices(lm, r, encoding) for r in requests]


def score_encoded(
    lm: LocalModel,
    requests: Sequence[LoglikRequest],
    encoded: Sequence[EncodedChoices],
    batch_size: int = 8,
    on_batch: Callable[[list[int], list[Any]], None] | None = None,
) -> list[list[ChoiceScore]]:
    """Score encoded requests, longest first in batches of `batch_size`; order preserved."""
    def run(batch: list[int]) -> list[list[ChoiceScore]]:
        scored = score_batch(lm, [encoded[i] for i in batch])
        return [[ChoiceScore(c, lp, n, gr) for c, n, (lp, gr)
                 in zip(requests[i].continuations, encoded[i].cont_lens, s, strict=True)]
                for i, s in zip(batch, scored, strict=True)]

    def on_indices(chunk: list[int], results: list[Any]) -> None:
        if on_batch is not None:
            on_batch(chunk, results)

    longest = [max(len(s) for s in e.seqs) for e in encoded]
    return run_longest_first(list(range(len(encoded))), lambda i: longest[i],
                             lambda idx: run(idx), batch_size, on_indices)


def score_requests(
    lm: LocalModel,
    requests: Sequence[LoglikRequest],
    batch_size: int = 8,
    on_batch: Callable[[list[int], list[Any]], None] | None = None,
    encoding: str = "joint",
) -> list[list[ChoiceScore]]:
    """Encode and score all requests; results in request order."""
    return score_encoded(lm, requests, encode_requests(lm, requests, encoding), batch_size, on_batch)
