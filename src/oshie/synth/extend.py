"""`extend`: multi-turn amplification. An LLM plays the user and asks follow-ups.

For every conversation, turn after turn: the simulated user reads the conversation and
writes the next message (a follow-up that depends on the last answer), or the sentinel
`[終了]` when it has nothing to add; the assistant then answers with the whole history.
All conversations advance together, one batched call per side per turn.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from oshie.filters import Compose
from oshie.llm.base import GenerationParams, LLMRequest
from oshie.prompts import check_fields, load_prompt
from oshie.records import Conversation, Message
from oshie.synth.answers import AnswerMaxTokens, answer_problem, answer_request
from oshie.synth.filters import CharLength, HasContent, JapaneseRatio, MinJapanese
from oshie.synth.run import SynthRun
from oshie.synth.screen import format_conversation

SENTINEL = "[終了]"


class ExtendConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turns: int = Field(2, ge=1, description="Most user/assistant turns added per conversation.")
    template: str = Field("synth_extend_user_v1", description="Simulated-user prompt name or path.")
    sentinel: str = Field(SENTINEL, description="What the simulated user says when done.")
    temperature: float = Field(0.8, ge=0, description="Sampling temperature (both sides).")
    max_tokens: int = Field(256, ge=1, description="Longest user message, in tokens.")
    answer_max_tokens: AnswerMaxTokens = 1024
    min_chars: int = Field(4, ge=1, description="Shortest follow-up, in characters.")
    min_japanese: MinJapanese = 0.5
    seed: int = Field(0, description="Base seed.")


def extend(records: list[Conversation], run: SynthRun, config: ExtendConfig) -> None:
    template = check_fields(load_prompt(config.template), {"conversation"})
    user_params = GenerationParams(max_tokens=config.max_tokens, temperature=config.temperature,
                                   seed=config.seed)
    answer_params = GenerationParams(max_tokens=config.answer_max_tokens,
                                     temperature=config.temperature, seed=config.seed)
    followup = Compose([HasContent(), CharLength(config.min_chars, 10_000),
                            JapaneseRatio(config.min_japanese)])
    convs: dict[str, Conversation] = {}
    ended: dict[str, str] = {}  # id -> why it stopped growing
    for rec in records:
        run.inputs += 1
        if not rec.messages or rec.messages[-1].role != "assistant":
            run.drop(rec.id, "no_answer", "extend needs conversations ending with an answer")
            continue
        convs[rec.id] = rec.model_copy(deep=True)
    added = dict.fromkeys(convs, 0)
    for turn in range(1, config.turns + 1):
        active = [cid for cid in convs if cid not in ended]
        if not active:
            break
        gens = run.generate(
            [LLMRequest(messages=[{"role": "user", "content": template.render(
                conversation=format_conversation(convs[cid]))}], params=user_params)
             for cid in active], desc=f"extend turn {turn}: user")
        asked = []
        for cid, gen in zip(active, gens, strict=True):
            run.generated += 1
            text = gen.text.strip()
            if config.sentinel in text:
                ended[cid] = "user_done"
                continue
            failure = followup.first_failure(text)
            if failure is not None:
                ended[cid] = failure[0]
                run.drop(f"{cid}-t{turn}", f"followup_{failure[0]}", failure[1], followup=text)
                continue
            asked.append((cid, text))
        answers = run.generate(
            [answer_request(convs[cid].system, [*convs[cid].messages,
                                                Message(role="user", content=text)],
                            answer_params) for cid, text in asked],
            desc=f"extend turn {turn}: answer")
        for (cid, text), gen in zip(asked, answers, strict=True):
            problem = answer_problem(gen)
            if problem:
                ended[cid] = problem[0]
                run.drop(f"{cid}-t{turn}", problem[0], problem[1], followup=text, answer=gen.text)
                continue
            convs[cid].messages.extend([Message(role="user", content=text),
                                        Message(role="assistant", content=gen.text.strip())])
            added[cid] += 1
    originals = {r.id: r for r in records}
    for cid, conv in convs.items():
        if added[cid] == 0:
            run.drop(cid, "not_extended", f"no turn added ({ended.get(cid, 'unknown')})")
            continue
        conv.id = f"{cid}-ext{added[cid]}"
        conv.metadata = run.provenance(
            template=template.name, params=user_params, parent_id=cid, turns_added=added[cid],
            original_turns=sum(m.role == "user" for m in originals[cid].messages),
            answer_params=answer_params.model_dump(exclude_none=True))
        run.keep(conv)
