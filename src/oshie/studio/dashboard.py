"""The numbers a project lead steers by: progress per genre and purpose against its target,
per-person throughput and finding rates, and length distributions of approved records."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from oshie.studio.db import Answer, Question, User
from oshie.studio.project import StudioConfig

LENGTH_BINS = (0, 50, 100, 200, 400, 800, 1600)


def _progress(targets: dict[str, int], done: Counter[str], written: Counter[str]) -> list[dict[str, Any]]:
    names = list(targets) + sorted(k for k in set(done) | set(written) if k not in targets)
    out = []
    for name in names:
        target = targets.get(name, 0)
        share = done[name] / target if target else None
        out.append({"name": name or "-", "target": target, "questions": written[name], "approved": done[name],
                    "percent": None if share is None else round(100 * min(share, 1.0))})
    return out


def _histogram(lengths: list[int]) -> list[dict[str, Any]]:
    edges = [*LENGTH_BINS, max([*lengths, LENGTH_BINS[-1]]) + 1]
    counts, _ = np.histogram(lengths, bins=edges)
    return [{"range": f"{lo}–{hi - 1}", "count": int(c)} for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True)]


def progress_numbers(s: Session, config: StudioConfig) -> dict[str, Any]:
    questions = {q.id: q for q in s.scalars(select(Question))}
    answers = list(s.scalars(select(Answer)))
    approved = [a for a in answers if a.state == "approved"]
    genre_done = Counter(questions[a.question_id].genre for a in approved)
    purpose_done = Counter(questions[a.question_id].purpose for a in approved)
    genre_written = Counter(q.genre for q in questions.values())
    purpose_written = Counter(q.purpose for q in questions.values())
    people: dict[int, dict[str, Any]] = defaultdict(lambda: {"questions": 0, "answers": 0, "reviews": 0,
                                                             "approved": 0, "with_findings": 0, "items": 0})
    for q in questions.values():
        p = people[q.writer_id]
        p["questions"] += 1
        p["items"] += 1
        p["with_findings"] += q.findings > 0
    for a in answers:
        p = people[a.writer_id]
        p["answers"] += 1
        p["items"] += 1
        p["with_findings"] += a.findings > 0
        p["approved"] += a.state == "approved"
        if a.checker_id and a.state in ("approved", "changes_requested"):
            people[a.checker_id]["reviews"] += 1
    users = {u.id: u for u in s.scalars(select(User))}
    per_person = [{"name": users[uid].name, "role": users[uid].role, **p,
                   "finding_rate": round(100 * p["with_findings"] / p["items"]) if p["items"] else 0}
                  for uid, p in sorted(people.items()) if uid in users]
    return {
        "genres": _progress(config.genres, genre_done, genre_written),
        "purposes": _progress(config.purposes, purpose_done, purpose_written),
        "people": per_person,
        "instruction_lengths": _histogram([len(questions[a.question_id].instruction) for a in approved]),
        "answer_lengths": _histogram([len(a.text) for a in approved]),
        "totals": {"questions": len(questions), "answers": len(answers), "approved": len(approved)},
    }
