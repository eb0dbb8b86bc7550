"""The writer -> answerer -> checker flow: every action is one function over one transaction.

Rules enforced here (not in the pages, so every route and the CLI share them):
- only writers (and admins) write questions; only answerers (and admins) answer, and never a
  question they wrote; only checkers (and admins) review, and never an answer they wrote;
- an answer moves answered -> in_review -> approved | changes_requested, and a revised answer
  goes back to answered;
- every change appends a `History` row (who, when, before, after);
- edits name the `version` they started from; a stale version raises `Conflict`, which carries
  both texts, and the losing text is kept in the history too, so nothing typed is ever lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from oshie.errors import OshieError
from oshie.records import Conversation, Message, Provenance, Record
from oshie.studio.db import Answer, History, Question, User, now

Row = TypeVar("Row")


class Forbidden(OshieError):
    """The signed-in person may not do this (role or ownership)."""

    exit_code = 2


class NotFound(OshieError):
    exit_code = 2


def get_row(s: Session, model: type[Row], key: int, what: str) -> Row:
    """The row `key` of `model`, or NotFound naming it as `what` (the one lookup every page uses)."""
    row = s.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key} does not exist")
    return row


class Conflict(OshieError):
    """Someone saved the same item since it was opened: both versions are attached."""

    def __init__(self, entity: str, entity_id: int, theirs: dict[str, Any], mine: dict[str, Any]) -> None:
        super().__init__(f"{entity} {entity_id} was changed by someone else while you edited it")
        self.entity, self.entity_id, self.theirs, self.mine = entity, entity_id, theirs, mine


CAN_WRITE = ("writer", "admin")
CAN_ANSWER = ("answerer", "admin")
CAN_CHECK = ("checker", "admin")


def require_role(user: User, roles: Sequence[str]) -> None:
    if user.role not in roles:
        raise Forbidden(f"this needs the role {' or '.join(roles)} (you are {user.role})")


def log(s: Session, entity: str, entity_id: int, user: User | None, action: str,
        before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    s.add(History(entity=entity, entity_id=entity_id, user_id=user.id if user else None, action=action,
                  before=json.dumps(before, ensure_ascii=False) if before is not None else "",
                  after=json.dumps(after, ensure_ascii=False) if after is not None else ""))


def question_fields(q: Question) -> dict[str, Any]:
    return {"instruction": q.instruction, "input": q.input, "genre": q.genre, "purpose": q.purpose,
            "version": q.version}


def answer_fields(a: Answer) -> dict[str, Any]:
    return {"text": a.text, "reference_url": a.reference_url, "state": a.state,
            "review_comment": a.review_comment, "version": a.version}


def get_question(s: Session, qid: int) -> Question:
    return get_row(s, Question, qid, "question")


def get_answer(s: Session, aid: int) -> Answer:
    return get_row(s, Answer, aid, "answer")


def _need_text(value: str, field: str) -> str:
    if not value.strip():
        raise OshieError("this field must not be empty", field=field)
    return value


def create_question(s: Session, user: User, instruction: str, input_text: str = "", genre: str = "",
                    purpose: str = "", findings: int = 0, source: str = "") -> Question:
    require_role(user, CAN_WRITE)
    q = Question(instruction=_need_text(instruction, "instruction"), input=input_text, genre=genre,
                 purpose=purpose, writer_id=user.id, findings=findings, source=source)
    s.add(q)
    s.flush()
    log(s, "question", q.id, user, "create", None, question_fields(q))
    return q


def _versioned_update(s: Session, model: type, entity: str, row_id: int, version: int,
                      values: dict[str, Any]) -> None:
    """UPDATE ... WHERE version = the one the editor read; zero rows means a conflict."""
    result = s.execute(update(model).where(model.id == row_id, model.version == version)
                       .values(**values, version=version + 1, updated_at=now()))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        s.expire_all()
        current = s.get(model, row_id)
        theirs = question_fields(current) if entity == "question" else answer_fields(current)
        raise Conflict(entity, row_id, theirs, {**values, "version": version})


def record_conflict(s: Session, user: User, conflict: Conflict) -> None:
    """Keep the text that lost a conflict in the history (call in a fresh transaction: the
    failed one is rolled back)."""
    log(s, conflict.entity, conflict.entity_id, user, "conflict", conflict.theirs, conflict.mine)


def edit_question(s: Session, user: User, qid: int, version: int, instruction: str, input_text: str,
                  genre: str, purpose: str, findings: int = 0) -> Question:
    q = get_question(s, qid)
    if q.writer_id != user.id and user.role != "admin":
        raise Forbidden("only the question's writer edits it")
    before = question_fields(q)
    values = {"instruction": _need_text(instruction, "instruction"), "input": input_text,
              "genre": genre, "purpose": purpose, "findings": findings}
    _versioned_update(s, Question, "question", qid, version, values)
    s.refresh(q)
    log(s, "question", qid, user, "edit", before, question_fields(q))
    return q


def answer_queue(s: Session, user: User, limit: int = 50) -> list[tuple[Question, int]]:
    """Questions this person did not write, fewest answers first, with their answer counts."""
    counts = (select(Answer.question_id, func.count(Answer.id).label("n"))
              .group_by(Answer.question_id).subquery())
    n = func.coalesce(counts.c.n, 0)
    rows = s.execute(select(Question, n).outerjoin(counts, counts.c.question_id == Question.id)
                     .where(Question.writer_id != user.id).order_by(n, Question.id).limit(limit))
    return [(q, int(k)) for q, k in rows]


def add_answer(s: Session, user: User, qid: int, text: str, reference_url: str = "",
               findings: int = 0) -> Answer:
    require_role(user, CAN_ANSWER)
    q = get_question(s, qid)
    if q.writer_id == user.id:
        raise Forbidden("you wrote this question: someone else must answer it")
    a = Answer(question_id=qid, text=_need_text(text, "answer"), reference_url=reference_url.strip(),
               writer_id=user.id, state="answered", findings=findings)
    s.add(a)
    s.flush()
    log(s, "answer", a.id, user, "create", None, answer_fields(a))
    return a


def edit_answer(s: Session, user: User, aid: int, version: int, text: str, reference_url: str,
                findings: int = 0) -> Answer:
    """The answer's writer revises it (back to `answered` after changes were requested)."""
    a = get_answer(s, aid)
    if a.writer_id != user.id and user.role != "admin":
        raise Forbidden("only the answer's writer revises it")
    if a.state == "approved":
        raise Forbidden("an approved answer is final")
    before = answer_fields(a)
    values = {"text": _need_text(text, "answer"), "reference_url": reference_url.strip(),
              "state": "answered", "findings": findings}
    _versioned_update(s, Answer, "answer", aid, version, values)
    s.refresh(a)
    log(s, "answer", aid, user, "revise", before, answer_fields(a))
    return a


def review_queue(s: Session, user: User, limit: int = 50) -> list[Answer]:
    return list(s.scalars(select(Answer).where(Answer.state.in_(("answered", "in_review")),
                                               Answer.writer_id != user.id)
                          .order_by(Answer.updated_at, Answer.id).limit(limit)))


def review(s: Session, user: User, aid: int, version: int, action: str, comment: str = "",
           text: str | None = None) -> Answer:
    """A checker's decision: `approve`, `request_changes` (comment required) or `edit` (the
    checker's corrected text, approved at once). Opening a review marks it in_review."""
    require_role(user, CAN_CHECK)
    a = get_answer(s, aid)
    if a.writer_id == user.id:
        raise Forbidden("you wrote this answer: another checker must review it")
    if a.state not in ("answered", "in_review"):
        raise Forbidden(f"this answer is {a.state}, not waiting for review")
    before = answer_fields(a)
    values: dict[str, Any] = {"checker_id": user.id, "review_comment": comment.strip()}
    if action == "approve":
        values["state"] = "approved"
    elif action == "request_changes":
        if not comment.strip():
            raise OshieError("say what should change", field="comment")
        values["state"] = "changes_requested"
    elif action == "edit":
        values.update(state="approved", text=_need_text(text or "", "answer"))
    else:
        raise OshieError(f"unknown review action '{action}'", field="action")
    _versioned_update(s, Answer, "answer", aid, version, values)
    s.refresh(a)
    log(s, "answer", aid, user, action, before, answer_fields(a))
    return a


def start_review(s: Session, user: User, aid: int) -> Answer:
    require_role(user, CAN_CHECK)
    a = get_answer(s, aid)
    if a.state == "answered" and a.writer_id != user.id:
        a.state = "in_review"
        a.checker_id = user.id
        log(s, "answer", aid, user, "start_review", {"state": "answered"}, {"state": "in_review"})
    return a


def names(s: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.name for u in s.scalars(select(User).where(User.id.in_(wanted)))}


def user_message(q: Question) -> str:
    return f"{q.instruction}\n\n{q.input}" if q.input.strip() else q.instruction


def to_record(q: Question, a: Answer | None, people: dict[int, str], project: str = "") -> Conversation:
    """The oshie record of a question and (optionally) one of its answers, people in metadata."""
    meta: dict[str, Any] = {"source": f"oshie studio: {project}" if project else "oshie studio",
                            "category": q.genre or None, "question_writer": people.get(q.writer_id)}
    if q.purpose:
        meta["purpose"] = q.purpose
    if q.input.strip():
        meta["alpaca_input"] = q.input  # lets the alpaca format split instruction and input again
    messages = [Message(role="user", content=user_message(q))]
    rid = f"q{q.id}"
    if a is not None:
        messages.append(Message(role="assistant", content=a.text))
        meta["answer_writer"] = people.get(a.writer_id)
        meta["checker"] = people.get(a.checker_id) if a.checker_id else None
        if a.reference_url:
            meta["output_reference"] = a.reference_url
        rid = f"q{q.id}-a{a.id}"
    return Conversation(id=rid, messages=messages, metadata=Provenance(**meta))


def approved_records(s: Session, project: str = "") -> list[Conversation]:
    rows = s.execute(select(Question, Answer).join(Answer, Answer.question_id == Question.id)
                     .where(Answer.state == "approved").order_by(Question.id, Answer.id)).all()
    people = names(s, [i for q, a in rows for i in (q.writer_id, a.writer_id, a.checker_id)])
    return [to_record(q, a, people, project) for q, a in rows]


def import_questions(s: Session, user: User, records: Sequence[Record], source: str) -> int:
    """Questions (seeds, tasks) from records of any oshie format; answers in them are not
    taken over, because studio answers are written by its answerers."""
    count = 0
    for r in records:
        text = r.instruction
        extra = getattr(r.metadata, "alpaca_input", None)
        instruction, input_text = text, ""
        if isinstance(extra, str) and extra and text.endswith("\n\n" + extra):
            instruction, input_text = text[: -len(extra) - 2], extra
        create_question(s, user, instruction, input_text, r.metadata.category or "",
                        str(getattr(r.metadata, "purpose", "") or ""), source=f"{source}#{r.id}")
        count += 1
    return count
