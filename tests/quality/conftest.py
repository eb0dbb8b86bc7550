"""Fixtures for the quality-audit tests: the planted-defect set and its evaluation files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oshie.records import Conversation

DATA = Path(__file__).parent / "data"


def read_planted() -> list[Conversation]:
    # not oshie.data.io: the planted set has empty fields on purpose, which the reader rejects
    with open(DATA / "planted.jsonl", encoding="utf-8") as fh:
        return [Conversation.model_validate(json.loads(line)) for line in fh]


@pytest.fixture(scope="session")
def planted() -> list[Conversation]:
    return read_planted()


@pytest.fixture(scope="session")
def eval_files() -> list[str]:
    return [str(DATA / "eval_jcqa.jsonl"), str(DATA / "eval_elyza.csv")]


def conv(question: str, answer: str, rid: str = "r1", **meta) -> Conversation:
    return Conversation(id=rid, messages=[{"role": "user", "content": question},
                                          {"role": "assistant", "content": answer}], metadata=meta)
