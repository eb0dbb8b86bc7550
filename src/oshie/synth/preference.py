"""`preference`: n sampled answers per prompt, graded by a judge -> (chosen, rejected) pairs.

Each answer is graded on its own (1-10, JSON), so every grade is one cached call. The
best-scored answer is chosen and the worst rejected (ties go to the earlier sample);
prompts whose answers all score within `min_margin` of each other give no pair. All
scores stay in the pair's metadata.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from oshie.llm.base import LLM, GenerationParams, LLMRequest
from oshie.prompts import check_fields, load_prompt
from oshie.records import Conversation, Message, PreferencePair
from oshie.synth.answers import answer_problem, answer_request, prompt_messages
from oshie.synth.jsonparse import find_json
from oshie.synth.run import SynthRun, generator_name


class PreferenceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(4, ge=2, description="Answers sampled per prompt.")
    temperature: float = Field(0.9, ge=0, description="Sampling temperature of the answers.")
    max_tokens: int = Field(1024, ge=1, description="Longest answer, in tokens.")
    seed: int = Field(0, description="Base seed (sample k uses seed + k).")
    judge_template: str = Field("synth_preference_judge_v1", description="Judge prompt name or path.")
    judge_max_tokens: int = Field(256, ge=1, description="Longest judge answer, in tokens.")
    min_margin: float = Field(1.0, ge=0, description="Least score gap between chosen and rejected.")


_SCORE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:点|/\s*10)")


def parse_score(text: str, lo: float = 1, hi: float = 10) -> float | None:
    """The judge's score: JSON {"score": x}, else "x点" or "x/10" in the text."""
    obj = find_json(text, dict, accept=lambda d: "score" in d)
    value = None
    if obj is not None:
        m = re.search(r"\d+(?:\.\d+)?", str(obj["score"]))
        value = float(m.group()) if m else None
    elif m := _SCORE.search(text):
        value = float(m.group(1))
    return value if value is not None and lo <= value <= hi else None


def preference(
    records: list[Conversation], run: SynthRun, config: PreferenceConfig, judge: LLM | None = None
) -> None:
    judge = judge or run.llm
    template = check_fields(load_prompt(config.judge_template), {"instruction", "answer"})
    params = GenerationParams(max_tokens=config.max_tokens, temperature=config.temperature,
                              seed=config.seed)
    judge_params = GenerationParams(max_tokens=config.judge_max_tokens, temperature=0.0)
    prompts: list[tuple[Conversation, list[Message]]] = []
    for rec in records:
        run.inputs += 1
        msgs = prompt_messages(rec)
        if msgs:
            prompts.append((rec, msgs))
        else:
            run.drop(rec.id, "no_instruction", "the record has no user message")
    requests = [answer_request(rec.system, msgs, params, k)
                for rec, msgs in prompts for k in range(config.n)]
    gens = run.generate(requests, desc="preference: answers")
    answers: list[list[tuple[int, str]]] = []
    for i, (_rec, _msgs) in enumerate(prompts):
        usable = []
        for k in range(config.n):
            gen = gens[i * config.n + k]
            run.generated += 1
            if answer_problem(gen, refusals=False) is None:
                usable.append((k, gen.text.strip()))
        answers.append(usable)
    grade_requests = [
        LLMRequest(messages=[{"role": "user", "content": template.render(
            instruction=msgs[-1].content, answer=text)}], params=judge_params)
        for (rec, msgs), usable in zip(prompts, answers, strict=True) for _, text in usable
    ]
    if judge is run.llm:
        graded = run.generate(grade_requests, desc="preference: judge")
    else:
        graded = judge.generate(grade_requests, desc="preference: judge") if grade_requests else []
    grades = iter(graded)
    for (rec, msgs), usable in zip(prompts, answers, strict=True):
        scored = [(k, text, parse_score(next(grades).text)) for k, text in usable]
        valid = [(k, text, s) for k, text, s in scored if s is not None]
        rid = f"{rec.id}-pref"
        if len(valid) < 2:
            run.drop(rid, "too_few_scored", f"{len(valid)} of {config.n} answers usable and graded",
                     instruction=msgs[-1].content, scores=[s for _, _, s in scored])
            continue
        best = max(valid, key=lambda x: x[2])  # max/min keep the first of equals
        worst = min(valid, key=lambda x: x[2])
        if best[2] - worst[2] < config.min_margin:
            run.drop(rid, "no_margin", f"scores {[s for _, _, s in valid]}",
                     instruction=msgs[-1].content)
            continue
        run.keep(PreferencePair(
            id=rid, system=rec.system, prompt=msgs,
            chosen=[Message(role="assistant", content=best[1])],
            rejected=[Message(role="assistant", content=worst[1])],
            chosen_score=best[2], rejected_score=worst[2],
            metadata=run.provenance(
                template=template.name, params=params, parent_id=rec.id,
                judge_model=generator_name(judge), judge_params=judge_params.model_dump(
                    exclude_none=True), chosen_sample=best[0], rejected_sample=worst[0],
                scores={str(k): s for k, _, s in scored}),
        ))
