"""`preference`: n sampled answers per prompt, graded by a judge -> (chosen, rejected) pairs.

Each answer is graded on its own (1-10, JSON), so every grade is one cached call. The
best-scored answer is chosen and the worst rejected (ties go to the earlier sample);
prompts whose answers all score within `min_margin` of each other give no pair. Every
sample's score, judge verdict, seed and finish reason stay in the pair's metadata, and
the run's summary counts the samples by outcome (`samples_finished`, `samples_truncated`...).

An answer cut off at `max_tokens` or with broken characters is dropped by default; with
`unfinished: reject` it is graded and may serve as the rejected answer (a model's own
failure is a natural negative) but is never chosen, so DPO never teaches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from oshie.llm.base import LLM, GenerationParams, LLMRequest
from oshie.prompts import check_fields, load_prompt
from oshie.records import Conversation, Message, PreferencePair
from oshie.synth.answers import answer_problem, answer_request, prompt_messages
from oshie.synth.run import SynthRun, generator_name
from oshie.verdicts import parse_grade


class PreferenceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(4, ge=2, description="Answers sampled per prompt.")
    temperature: float = Field(0.9, ge=0, description="Sampling temperature of the answers.")
    max_tokens: int = Field(1024, ge=1, description="Longest answer, in tokens.")
    seed: int = Field(0, description="Base seed (sample k uses seed + k).")
    judge_template: str = Field("synth_preference_judge_v1", description="Judge prompt name or path.")
    judge_max_tokens: int = Field(256, ge=1, description="Longest judge answer, in tokens.")
    min_margin: float = Field(1.0, ge=0, description="Least score gap between chosen and rejected.")
    unfinished: Literal["drop", "reject", "rank"] = Field(
        "drop", description="Answers cut off at max_tokens or with broken characters: 'drop' "
        "them before judging; 'reject': graded, and may be a pair's rejected answer but never "
        "its chosen one; 'rank': graded and ranked like finished answers. Each sample's "
        "finish_reason is in the pair's metadata either way.")


def parse_score(text: str) -> float | None:
    """The judge's 1-10 score, read by the one verdict parser (`oshie.verdicts`): its
    final JSON {"score": x}, "評価: x", "x点", "x/10"...; None when it cannot be read."""
    grade = parse_grade(text, top=10)
    return float(grade) if grade is not None else None


UNFINISHED = ("truncated", "broken_text")  # answer problems `unfinished` may keep


def preference(
    records: list[Conversation],
    run: SynthRun,
    config: PreferenceConfig,
    judge: LLM | None = None,
    provenance: dict[str, Any] | None = None,
) -> None:
    """`provenance`: extra metadata for every pair (e.g. which tuned model sampled)."""
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
    answers: list[list[_Sample]] = []
    for i in range(len(prompts)):
        usable = []
        for k in range(config.n):
            gen = gens[i * config.n + k]
            run.generated += 1
            problem = answer_problem(gen, refusals=False)
            if problem and problem[0] in UNFINISHED and not _trainable(gen.text):
                problem = ("untrainable", "a character training data refuses")  # e.g. U+0010
            run.counts[f"samples_{problem[0] if problem else 'finished'}"] += 1
            if problem is None or (config.unfinished != "drop" and problem[0] in UNFINISHED):
                usable.append(_Sample(k, gen.text.strip(), gen.finish_reason,
                                      problem[0] if problem else None))
        answers.append(usable)
    grade_requests = [
        LLMRequest(messages=[{"role": "user", "content": template.render(
            instruction=msgs[-1].content, answer=s.text)}], params=judge_params)
        for (rec, msgs), usable in zip(prompts, answers, strict=True) for s in usable
    ]
    if judge is run.llm:
        graded = run.generate(grade_requests, desc="preference: judge")
    else:
        graded = judge.generate(grade_requests, desc="preference: judge") if grade_requests else []
    verdicts = iter(graded)
    for (rec, msgs), usable in zip(prompts, answers, strict=True):
        for s in usable:
            s.verdict = next(verdicts).text
            s.score = parse_score(s.verdict)
        valid = [s for s in usable if s.score is not None]
        # a cut-off or broken answer may be rejected, never chosen (unless `rank`)
        eligible = [s for s in valid if s.problem is None or config.unfinished == "rank"]
        rid = f"{rec.id}-pref"
        if len(valid) < 2:
            run.drop(rid, "too_few_scored", f"{len(valid)} of {config.n} answers usable and graded",
                     instruction=msgs[-1].content, samples=[s.info(params) for s in usable])
            continue
        if not eligible:
            run.drop(rid, "no_finished_answer", "every graded answer was cut off or broken",
                     instruction=msgs[-1].content, samples=[s.info(params) for s in usable])
            continue
        best = max(eligible, key=lambda s: s.score or 0)  # max/min keep the first of equals
        worst = min((s for s in valid if s is not best), key=lambda s: s.score or 0)
        if (best.score or 0) - (worst.score or 0) < config.min_margin:
            run.drop(rid, "no_margin", f"scores {[s.score for s in valid]}",
                     instruction=msgs[-1].content, samples=[s.info(params) for s in usable])
            continue
        run.keep(PreferencePair(
            id=rid, system=rec.system, prompt=msgs,
            chosen=[Message(role="assistant", content=best.text)],
            rejected=[Message(role="assistant", content=worst.text)],
            chosen_score=best.score, rejected_score=worst.score,
            metadata=run.provenance(
                template=template.name, params=params, parent_id=rec.id,
                judge_model=generator_name(judge), judge_params=judge_params.model_dump(
                    exclude_none=True), chosen_sample=best.k, rejected_sample=worst.k,
                scores={str(s.k): s.score for s in usable},
                samples={str(s.k): s.info(params) for s in usable}, **(provenance or {})),
        ))


def _trainable(text: str) -> bool:
    """Whether a training read accepts the text (broken decoding can emit control bytes)."""
    from oshie.data.formats.fields import check_text
    from oshie.errors import RowError

    try:
        check_text(text, "answer")
    except RowError:
        return False
    return True


@dataclass
class _Sample:
    """One sampled answer and what the judge made of it."""

    k: int  # sample index (its seed is the base seed + k)
    text: str
    finish_reason: str | None
    problem: str | None  # truncated / broken_text, kept under `unfinished: reject|rank`
    verdict: str = ""
    score: float | None = None

    def info(self, params: GenerationParams) -> dict[str, Any]:
        seed = None if params.seed is None else params.seed + self.k
        return {"seed": seed, "finish_reason": self.finish_reason, "problem": self.problem,
                "score": self.score, "verdict": self.verdict}
