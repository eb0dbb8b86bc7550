"""Blind pairwise human evaluation: import systems' answers, hand pairs to raters with the
system names hidden and the sides counterbalanced, collect votes, compute results.

- Import reads answers the way `oshie eval compare` does (`oshie.eval.pairwise.load_system`:
  a run directory of `oshie eval judge`, or an answers JSONL) and, optionally, the LLM judge's
  verdicts on the same pairs from a compare run's `pairwise.jsonl`.
- Sides: each pair draws a random side for its first rater; every further rater gets the
  other side from the one before, so each pair is seen both ways and raters cannot infer a
  system from its side.
- Results use `oshie.eval.pairwise.pairwise_metrics` on one outcome per item (the raters'
  mean preference for X: x = 1, tie = 0.5, y = 0; above 0.5 a win, below a loss, 0.5 a tie),
  so the file has the shape of `oshie eval compare`'s results.json, plus agreement entries:
  Fleiss' kappa among raters, Cohen's kappa when exactly two raters rated every item, and the
  agreement of the human outcome with the LLM judge's.
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oshie.errors import DataError, UsageError
from oshie.eval.metrics.agreement import cohen_kappa, fleiss_kappa
from oshie.eval.metrics.bootstrap import bootstrap_ci, mean_entry, metric_entry
from oshie.eval.pairwise import check_same_tasks, pairwise_metrics
from oshie.jsonl import json_lines, read_utf8
from oshie.studio.db import (
    EvalOutput,
    EvalPair,
    EvalPrompt,
    EvalRound,
    EvalSystem,
    EvalVote,
    User,
    now,
)
from oshie.studio.workflow import Forbidden, NotFound, get_row, log

CHOICES = ("x", "tie", "y")  # categories of the agreement tables, in the frame of system X
_VERDICT = {"win": ("A", "B"), "loss": ("B", "A"), "tie": ("tie", "tie")}


def read_judge_verdicts(path: str | Path) -> dict[tuple[str, str, str], str]:
    """(id, system_x, system_y) -> outcome for x, from an `oshie eval compare` run directory
    (or its pairwise.jsonl)."""
    p = Path(path)
    f = p / "pairwise.jsonl" if p.is_dir() else p
    if not f.is_file():
        raise DataError("no pairwise verdicts found", path=f,
                        hint="pass a run directory of `oshie eval compare` (it holds pairwise.jsonl)")
    out = {}
    for n, row in json_lines(read_utf8(f), f):
        try:
            out[(str(row["id"]), str(row["system_x"]), str(row["system_y"]))] = row["outcome_for_x"]
        except KeyError as exc:
            raise DataError(f"missing field {exc}", path=f, line=n, field=str(exc.args[0]),
                            hint="each row needs id, system_x, system_y, outcome_for_x") from None
        if row["outcome_for_x"] not in ("win", "tie", "loss", None):
            raise DataError(f"unknown outcome {row['outcome_for_x']!r}", path=f, line=n, field="outcome_for_x",
                            hint="win, tie, loss or null")
    return out


def import_round(s: Session, name: str, systems: dict[str, list[dict[str, Any]]], raters_per_pair: int = 3,
                 judge: dict[tuple[str, str, str], str] | None = None) -> EvalRound:
    """A new round over the systems' answers to the same prompts (same ids, same order)."""
    names = check_same_tasks(systems)
    if s.scalar(select(EvalRound).where(EvalRound.name == name)) is not None:
        raise UsageError(f"an evaluation round named '{name}' exists already", hint="choose another name")
    base = systems[names[0]]
    rnd = EvalRound(name=name, raters_per_pair=raters_per_pair)
    s.add(rnd)
    s.flush()
    sys_rows = {n: EvalSystem(round_id=rnd.id, name=n, position=i) for i, n in enumerate(names)}
    s.add_all(sys_rows.values())
    s.flush()
    flip = {"win": "loss", "loss": "win", "tie": "tie", None: None}
    for k, task in enumerate(base):
        prompt = EvalPrompt(round_id=rnd.id, key=str(task["id"]), input=task["input"],
                            reference=task.get("reference") or "")
        s.add(prompt)
        s.flush()
        for n in names:
            s.add(EvalOutput(prompt_id=prompt.id, system_id=sys_rows[n].id, answer=systems[n][k]["answer"]))
        for x, y in combinations(names, 2):
            outcome = None
            if judge:
                outcome = judge.get((prompt.key, x, y)) or flip[judge.get((prompt.key, y, x))]
            s.add(EvalPair(round_id=rnd.id, prompt_id=prompt.id, system_x_id=sys_rows[x].id,
                           system_y_id=sys_rows[y].id, x_left_first=secrets.randbits(1) == 1,
                           judge_outcome=outcome))
    log(s, "eval", rnd.id, None, "import", None, {"name": name, "systems": names, "prompts": len(base)})
    return rnd


def get_round(s: Session, round_id: int) -> EvalRound:
    return get_row(s, EvalRound, round_id, "evaluation round")


def next_assignment(s: Session, rater: User, rnd: EvalRound) -> EvalVote | None:
    """The rater's open assignment, else a new one on a pair that still needs raters."""
    if rnd.closed:
        return None
    open_vote = s.scalar(select(EvalVote).join(EvalPair, EvalPair.id == EvalVote.pair_id)
                         .where(EvalPair.round_id == rnd.id, EvalVote.rater_id == rater.id,
                                EvalVote.choice.is_(None)))
    if open_vote is not None:
        return open_vote
    taken = select(EvalVote.pair_id).where(EvalVote.rater_id == rater.id)
    counts = select(EvalVote.pair_id, func.count(EvalVote.id).label("n")).group_by(EvalVote.pair_id).subquery()
    n = func.coalesce(counts.c.n, 0)
    row = s.execute(select(EvalPair, n).outerjoin(counts, counts.c.pair_id == EvalPair.id)
                    .where(EvalPair.round_id == rnd.id, EvalPair.id.not_in(taken), n < rnd.raters_per_pair)
                    .order_by(n.desc(), EvalPair.id).limit(1)).first()
    if row is None:
        return None
    pair, seen = row
    x_left = pair.x_left_first if int(seen) % 2 == 0 else not pair.x_left_first
    vote = EvalVote(pair_id=pair.id, rater_id=rater.id, x_left=x_left)
    s.add(vote)
    s.flush()
    return vote


def blind_view(s: Session, vote: EvalVote) -> dict[str, Any]:
    """What a rater sees: the prompt and two answers as left/right. No system ids or names."""
    pair = s.get(EvalPair, vote.pair_id)
    assert pair is not None
    prompt = s.get(EvalPrompt, pair.prompt_id)
    assert prompt is not None
    answers = dict(s.execute(select(EvalOutput.system_id, EvalOutput.answer)
                             .where(EvalOutput.prompt_id == prompt.id)).all())
    x, y = answers[pair.system_x_id], answers[pair.system_y_id]
    left, right = (x, y) if vote.x_left else (y, x)
    return {"assignment": vote.id, "input": prompt.input, "left": left, "right": right}


def cast_vote(s: Session, rater: User, vote_id: int, side: str, reason: str = "") -> EvalVote:
    """Record a rater's choice of `left`, `right` or `tie` on their own open assignment."""
    vote = s.get(EvalVote, vote_id)
    if vote is None or vote.rater_id != rater.id:
        raise NotFound("no such assignment for you")
    rnd = s.scalar(select(EvalRound).join(EvalPair, EvalPair.round_id == EvalRound.id)
                   .where(EvalPair.id == vote.pair_id))
    if rnd is None or rnd.closed:
        raise Forbidden("this evaluation round is closed")
    if vote.choice is not None:
        raise Forbidden("you voted on this pair already")
    if side not in ("left", "right", "tie"):
        raise UsageError(f"unknown choice '{side}'", field="choice", hint="left, right or tie")
    vote.choice = "tie" if side == "tie" else ("x" if (side == "left") == vote.x_left else "y")
    vote.reason = reason.strip()
    vote.voted_at = now()
    return vote


def item_outcome(choices: Sequence[str]) -> str | None:
    """The raters' mean preference for X (x = 1, tie = 0.5, y = 0) as win / tie / loss."""
    if not choices:
        return None
    score = sum({"x": 1.0, "tie": 0.5, "y": 0.0}[c] for c in choices) / len(choices)
    return "win" if score > 0.5 else "loss" if score < 0.5 else "tie"


def _kappa_entry(table: np.ndarray, seed: int, **extra: Any) -> dict[str, Any]:
    value = fleiss_kappa(table) if len(table) else float("nan")
    ci = bootstrap_ci(len(table), lambda idx: fleiss_kappa(table[idx]), seed=seed)
    return metric_entry(value, ci, len(table), **extra)


def _pair_agreement(votes: dict[int, list[EvalVote]], outcomes: dict[int, str | None],
                    judge: dict[int, str | None], k: int, seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    complete = [pid for pid, vs in votes.items() if len(vs) == k]
    table = np.array([[sum(v.choice == c for v in votes[pid]) for c in CHOICES] for pid in complete])
    if k >= 2:
        out["fleiss_kappa"] = _kappa_entry(table, seed, raters_per_item=k,
                                           note="agreement among raters beyond chance (x / tie / y)")
    raters = {v.rater_id for pid in complete for v in votes[pid]}
    if k == 2 and len(raters) == 2 and complete:
        first, second = sorted(raters)
        by = {pid: {v.rater_id: v.choice for v in votes[pid]} for pid in complete}
        a = [by[p][first] for p in complete]
        b = [by[p][second] for p in complete]
        ci = bootstrap_ci(len(a), lambda idx: cohen_kappa([a[i] for i in idx], [b[i] for i in idx]), seed=seed)
        out["cohen_kappa"] = metric_entry(cohen_kappa(a, b), ci, len(a))
    both = [pid for pid in votes if outcomes.get(pid) and judge.get(pid)]
    human = [outcomes[p] for p in both]
    llm = [judge[p] for p in both]
    if both:
        out["human_judge_agreement"] = mean_entry([h == j for h, j in zip(human, llm, strict=True)],
                                                  seed=seed, note="human outcome equals the LLM judge's")
        ci = bootstrap_ci(len(both), lambda idx: cohen_kappa([human[i] for i in idx], [llm[i] for i in idx]),
                          seed=seed)
        out["human_judge_kappa"] = metric_entry(cohen_kappa(human, llm), ci, len(both))
    return out


def round_results(s: Session, rnd: EvalRound, seed: int = 0) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """(results in the shape of `oshie eval compare`'s results.json, one record per pair-item)."""
    systems = {r.id: r.name for r in s.scalars(select(EvalSystem).where(EvalSystem.round_id == rnd.id)
                                               .order_by(EvalSystem.position))}
    pairs = list(s.scalars(select(EvalPair).where(EvalPair.round_id == rnd.id).order_by(EvalPair.id)))
    keys = dict(s.execute(select(EvalPrompt.id, EvalPrompt.key).where(EvalPrompt.round_id == rnd.id)).all())
    votes: dict[int, list[EvalVote]] = defaultdict(list)
    for v in s.scalars(select(EvalVote).join(EvalPair, EvalPair.id == EvalVote.pair_id)
                       .where(EvalPair.round_id == rnd.id, EvalVote.choice.is_not(None)).order_by(EvalVote.id)):
        votes[v.pair_id].append(v)
    records, outcomes = [], {}
    for p in pairs:
        outcome = item_outcome([v.choice for v in votes[p.id] if v.choice])
        outcomes[p.id] = outcome
        xy, yx = _VERDICT[outcome] if outcome else (None, None)
        records.append({
            "id": keys[p.prompt_id], "system_x": systems[p.system_x_id], "system_y": systems[p.system_y_id],
            "outcome_for_x": outcome, "inconsistent": False, "verdict_xy": xy, "verdict_yx": yx,
            "status_xy": "ok" if outcome else "no_votes", "status_yx": "ok" if outcome else "no_votes",
            "votes": dict(Counter(v.choice for v in votes[p.id])), "judge_outcome_for_x": p.judge_outcome,
        })
    names = list(systems.values())
    results = pairwise_metrics(records, names, seed)
    for x_id, y_id in combinations(systems, 2):
        mine = [p for p in pairs if p.system_x_id == x_id and p.system_y_id == y_id]
        results[f"{systems[x_id]}_vs_{systems[y_id]}"].update(_pair_agreement(
            {p.id: votes[p.id] for p in mine}, {p.id: outcomes[p.id] for p in mine},
            {p.id: p.judge_outcome for p in mine}, rnd.raters_per_pair, seed))
    return results, records


def round_progress(s: Session, rnd: EvalRound) -> dict[str, int]:
    pairs = s.scalar(select(func.count()).where(EvalPair.round_id == rnd.id)) or 0
    done = s.scalar(select(func.count()).select_from(EvalVote).join(EvalPair, EvalPair.id == EvalVote.pair_id)
                    .where(EvalPair.round_id == rnd.id, EvalVote.choice.is_not(None))) or 0
    return {"pairs": pairs, "votes": done, "needed": pairs * rnd.raters_per_pair}
