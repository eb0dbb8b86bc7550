"""`respond`: answers for instructions, n samples each (sample_index is in the cache key)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from oshie.llm.base import GenerationParams
from oshie.records import Conversation, Message
from oshie.synth.answers import answer_problem, answer_request, prompt_messages
from oshie.synth.run import SynthRun


class RespondConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(1, ge=1, description="Answers sampled per instruction.")
    temperature: float = Field(0.7, ge=0, description="Sampling temperature.")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling mass.")
    max_tokens: int = Field(1024, ge=1, description="Longest answer in tokens.")
    seed: int | None = Field(0, description="Base seed (sample k uses seed + k).")
    system: str | None = Field(None, description="System prompt for records that have none.")
    drop_refusals: bool = Field(False, description="Drop short refusals ('申し訳ありませんが…').")

    def params(self) -> GenerationParams:
        return GenerationParams(max_tokens=self.max_tokens, temperature=self.temperature,
                                top_p=self.top_p, seed=self.seed)


def respond(records: list[Conversation], run: SynthRun, config: RespondConfig) -> None:
    """Write one record per usable answer: the prompt messages plus the new answer."""
    params = config.params()
    todo: list[tuple[Conversation, list[Message], int]] = []
    for rec in records:
        run.inputs += 1
        msgs = prompt_messages(rec)
        if not msgs:
            run.drop(rec.id, "no_instruction", "the record has no user message")
            continue
        todo.extend((rec, msgs, k) for k in range(config.n))
    requests = [answer_request(rec.system or config.system, msgs, params, k)
                for rec, msgs, k in todo]
    gens = run.generate(requests, desc="respond")
    for (rec, msgs, k), gen in zip(todo, gens, strict=True):
        run.generated += 1
        rid = rec.id if config.n == 1 else f"{rec.id}-r{k}"
        problem = answer_problem(gen, refusals=config.drop_refusals)
        if problem:
            run.drop(rid, *problem, instruction=msgs[-1].content, answer=gen.text)
            continue
        run.keep(Conversation(
            id=rid, system=rec.system or config.system,
            messages=[*msgs, Message(role="assistant", content=gen.text.strip())],
            metadata=run.provenance(template=None, params=params, parent_id=rec.id,
                                    sample_index=k, category=rec.metadata.category),
        ))
