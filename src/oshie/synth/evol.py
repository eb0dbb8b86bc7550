"""`evol`: Evol-Instruct (Xu et al., 2023) with Japanese templates.

In-depth operations make an instruction harder (add a constraint, deepen, concretise,
require more reasoning steps); in-breadth makes a new instruction in the same domain.
Each round picks one operation per instruction (deterministically from its id), asks for
the rewrite, eliminates failed evolutions (no real change, template words leaked, empty),
then answers the survivors and eliminates refusals and empty answers. Survivors of a
round are evolved again in the next; every surviving round is kept.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oshie.filters import Compose
from oshie.llm.base import GenerationParams, LLMRequest
from oshie.prompts import PromptTemplate, check_fields, load_prompt
from oshie.records import Conversation, Message, stable_hash
from oshie.synth.answers import AnswerMaxTokens, answer_problem, answer_request
from oshie.synth.filters import (
    EVOL_LEAK_WORDS,
    Changed,
    HasContent,
    JapaneseRatio,
    MinJapanese,
    NotCopied,
)
from oshie.synth.run import SynthRun

OPERATIONS = {
    "constraints": "synth_evol_constraints_v1",
    "deepen": "synth_evol_deepen_v1",
    "concretize": "synth_evol_concretize_v1",
    "reasoning": "synth_evol_reasoning_v1",
    "breadth": "synth_evol_breadth_v1",
}


class EvolConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rounds: int = Field(1, ge=1, description="Evolution rounds (each evolves the last survivors).")
    operations: list[str] = Field(default_factory=lambda: list(OPERATIONS), description=(
        "Operations to choose from: " + ", ".join(OPERATIONS) + "."))
    templates: dict[str, str] = Field(default_factory=dict, description=(
        "Per-operation template override: operation -> template name or file path."))
    answer: bool = Field(True, description="Also answer each evolved instruction.")
    no_change_threshold: float = Field(0.95, ge=0, le=1, description=(
        "An evolution whose character ROUGE-L F vs its parent reaches this made no real change."))
    min_japanese: MinJapanese = 0.5
    temperature: float = Field(0.7, ge=0, description="Sampling temperature.")
    max_tokens: int = Field(512, ge=1, description="Longest rewritten instruction, in tokens.")
    answer_max_tokens: AnswerMaxTokens = 1024
    seed: int = Field(0, description="Seeds the choice of operation and the model's sampling.")

    @field_validator("operations")
    @classmethod
    def _known(cls, ops: list[str]) -> list[str]:
        unknown = [o for o in ops if o not in OPERATIONS]
        if unknown or not ops:
            raise ValueError(f"unknown operation(s) {unknown}; choose from {list(OPERATIONS)}")
        return ops


def pick_operation(record_id: str, rnd: int, seed: int, operations: list[str]) -> str:
    return operations[int(stable_hash([record_id, rnd, seed], 8), 16) % len(operations)]


def clean_evolved(text: str) -> str:
    """Strip the quotes and whitespace a model wraps a rewritten prompt in."""
    t = text.strip()
    for a, b in (("「", "」"), ('"', '"'), ("『", "』")):
        if len(t) > 2 and t.startswith(a) and t.endswith(b) and t.count(a) == 1:
            t = t[1:-1].strip()
    return t


def evol(records: list[Conversation], run: SynthRun, config: EvolConfig) -> None:
    templates: dict[str, PromptTemplate] = {
        op: check_fields(load_prompt(config.templates.get(op, OPERATIONS[op])), {"instruction"})
        for op in config.operations
    }
    rewrite = GenerationParams(max_tokens=config.max_tokens, temperature=config.temperature,
                               seed=config.seed)
    answer_params = GenerationParams(max_tokens=config.answer_max_tokens,
                                     temperature=config.temperature, seed=config.seed)
    current: list[tuple[str, str, str]] = []  # (record id, root id, instruction)
    for rec in records:
        run.inputs += 1
        if rec.instruction.strip():
            current.append((rec.id, rec.id, rec.instruction.strip()))
        else:
            run.drop(rec.id, "no_instruction", "the record has no user message")
    leak = NotCopied(markers=EVOL_LEAK_WORDS)
    leak.code = "template_leak"
    base = Compose([HasContent(), leak, JapaneseRatio(config.min_japanese)])
    for rnd in range(1, config.rounds + 1):
        if not current:
            break
        ops = [pick_operation(rid, rnd, config.seed, config.operations) for rid, _, _ in current]
        requests = [
            LLMRequest(messages=[{"role": "user",
                                  "content": templates[op].render(instruction=text)}],
                       params=rewrite)
            for (_, _, text), op in zip(current, ops, strict=True)
        ]
        gens = run.generate(requests, desc=f"evol round {rnd}: rewrite")
        evolved: list[tuple[str, str, str, str, str]] = []  # id, parent, root, op, text
        for (pid, root, parent_text), op, gen in zip(current, ops, gens, strict=True):
            run.generated += 1
            text = clean_evolved(gen.text)
            rid = f"{root}-evol{rnd}-{op}"
            failure = base.first_failure(
                text, extra=[Changed(parent_text, config.no_change_threshold)])
            if failure is not None:
                run.drop(rid, failure[0], failure[1], parent=parent_text, evolved=gen.text,
                         operation=op)
                continue
            evolved.append((rid, pid, root, op, text))
        answers = [None] * len(evolved)
        if config.answer:
            answers = run.generate(
                [answer_request(None, [Message(role="user", content=t)], answer_params)
                 for *_, t in evolved], desc=f"evol round {rnd}: answer")
        current = []
        for (rid, pid, root, op, text), gen in zip(evolved, answers, strict=True):
            messages = [Message(role="user", content=text)]
            if gen is not None:
                problem = answer_problem(gen)
                if problem:
                    run.drop(rid, *problem, evolved=text, answer=gen.text, operation=op)
                    continue
                messages.append(Message(role="assistant", content=gen.text.strip()))
            run.keep(Conversation(
                id=rid, messages=messages,
                metadata=run.provenance(
                    template=templates[op].name, params=rewrite, parent_id=pid,
                    evol_operation=op, evol_round=rnd, root_id=root,
                    answer_params=answer_params.model_dump(exclude_none=True)
                    if config.answer else None),
            ))
            current.append((rid, root, text))
