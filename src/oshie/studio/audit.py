"""The live audit of a draft: oshie's data checks (`oshie.data.check.check_records`, the same
pipeline as `oshie data check`), run server-side on what a person is typing.

The draft becomes a one-turn record (instruction [+ input] -> answer); the project's existing
questions and answers go in front of it so the `duplicate` check (MinHash, `oshie.data.dedup`)
can say the draft nearly repeats one of them. Findings come back per form field
(instruction / input / answer) with character offsets into that field, for highlighting.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oshie.data.check import CheckConfig, check_records
from oshie.records import Conversation, Message
from oshie.studio.db import Answer, Question

DRAFT_ID = "draft"
CONTEXT_LIMIT = 5000  # most recent records compared against for near-duplicates
# per-record checks on the draft alone; near-duplicates against the project's records
DRAFT_CONFIG = CheckConfig(checks={"contamination": {"enabled": False}, "duplicate": {"enabled": False}})
DUPLICATE_CONFIG = CheckConfig(only=["duplicate"])


def _draft_record(instruction: str, input_text: str, answer: str) -> Conversation:
    user = f"{instruction}\n\n{input_text}" if input_text.strip() else instruction
    messages = [Message(role="user", content=user or " ")]
    if answer.strip():
        messages.append(Message(role="assistant", content=answer))
    return Conversation(id=DRAFT_ID, messages=messages)


def _existing(s: Session, exclude_question: int | None, exclude_answer: int | None) -> list[Conversation]:
    out: list[Conversation] = []
    questions = s.execute(select(Question.id, Question.instruction, Question.input)
                          .order_by(Question.id.desc()).limit(CONTEXT_LIMIT)).all()
    answers = dict(s.execute(select(Answer.question_id, Answer.text).where(Answer.id != (exclude_answer or -1))
                             .order_by(Answer.id.desc()).limit(CONTEXT_LIMIT)).all())
    for qid, instruction, input_text in questions:
        if qid == exclude_question:
            continue
        rec = _draft_record(instruction, input_text, answers.get(qid, ""))
        out.append(rec.model_copy(update={"id": f"q{qid}"}))
    return out


def _map_span(span: dict[str, Any] | None, instruction: str, input_text: str, has_answer: bool) -> dict[str, Any] | None:
    """A span of the record's text fields -> (form field, start, end) of what the person typed."""
    if span is None:
        return None
    field, start, end = span["field"], span["start"], span["end"]
    if field == "messages[0].content":
        if start < len(instruction):
            return {"field": "instruction", "start": start, "end": min(end, len(instruction))}
        offset = len(instruction) + 2
        if input_text.strip() and start >= offset:
            return {"field": "input", "start": start - offset, "end": end - offset}
        return None
    if field == "messages[1].content" and has_answer:
        return {"field": "answer", "start": start, "end": end}
    return None


def audit_draft(s: Session, instruction: str, input_text: str = "", answer: str = "",
                question_id: int | None = None, answer_id: int | None = None,
                near_duplicates: bool = True) -> list[dict[str, Any]]:
    """Findings on a draft: check code, severity, message and the highlighted span (or None)."""
    if not (instruction.strip() or answer.strip()):
        return []
    draft = _draft_record(instruction, input_text, answer)
    findings = check_records([draft], DRAFT_CONFIG).findings
    records = [*_existing(s, question_id, answer_id), draft] if near_duplicates else [draft]
    if near_duplicates and len(records) > 1:
        findings += [f for f in check_records(records, DUPLICATE_CONFIG).findings
                     if f.index == len(records) - 1]
    found = []
    for f in findings:
        if f.check in ("answer_too_short", "empty_field") and not answer.strip():
            continue  # a question without its answer yet is not a problem
        span = _map_span(f.span.to_dict() if f.span else None, instruction, input_text, bool(answer.strip()))
        found.append({"check": f.check, "severity": f.severity, "message": f.message, "span": span})
    return found
