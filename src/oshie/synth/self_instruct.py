"""`self-instruct`: grow a pool of instructions from human seeds (Wang et al., 2023).

Each round sends `requests_per_round` prompts; each prompt shows a random sample of
human seeds and instructions made so far, and asks for `per_prompt` new tasks as JSON
(instruction, input, output). Candidates go through the Japanese rule filters and then
the character ROUGE-L novelty filter against everything in the pool. Sampling is seeded
per round, so a rerun builds the same prompts and every call comes from the cache.
"""

from __future__ import annotations

import random
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oshie.console import progress, warn
from oshie.errors import DataError
from oshie.llm.base import GenerationParams, LLMRequest
from oshie.prompts import PromptTemplate, check_fields, load_prompt
from oshie.records import Conversation, Message
from oshie.synth.filters import MinJapanese, NotCopied, instruction_filters, load_word_list
from oshie.synth.jsonparse import find_json
from oshie.synth.novelty import NoveltyFilter
from oshie.synth.run import SynthRun, record_id


class SelfInstructConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: int = Field(100, ge=1, description="New instructions to keep.")
    per_prompt: int = Field(8, ge=1, description="New instructions asked for per prompt.")
    human_examples: int = Field(6, ge=0, description="Human seeds shown per prompt.")
    machine_examples: int = Field(2, ge=0, description="Generated instructions shown per prompt.")
    requests_per_round: int = Field(8, ge=1, description="Prompts sent together per round.")
    max_rounds: int = Field(100, ge=1, description="Give up after this many rounds.")
    patience: int = Field(5, ge=1, description="Stop after this many rounds keeping nothing.")
    novelty_threshold: float = Field(0.7, ge=0, le=1, description=(
        "Drop a candidate whose character ROUGE-L F against any pooled instruction exceeds this."))
    min_chars: int = Field(5, ge=0, description="Shortest instruction, in characters.")
    max_chars: int = Field(500, ge=1, description="Longest instruction, in characters.")
    min_japanese: MinJapanese = 0.5
    blocklist: str | None = Field(None, description=(
        "File of tasks a text model cannot do (one a line); default: the shipped list."))
    template: str = Field("synth_self_instruct_v1", description="Prompt template name or path.")
    temperature: float = Field(0.7, ge=0, description="Sampling temperature.")
    max_tokens: int = Field(2048, ge=1, description="Longest answer per prompt, in tokens.")
    seed: int = Field(0, description="Seeds example sampling and the model's sampling.")

    def params(self) -> GenerationParams:
        return GenerationParams(max_tokens=self.max_tokens, temperature=self.temperature,
                                seed=self.seed)


_NUMBERED = re.compile(r"^\s*(?:\d+|[０-９]+)[.．、)）:：]\s*(.+)$")


def parse_candidates(text: str) -> list[dict[str, str]]:
    """Tasks from a model answer: a JSON array of objects, else numbered lines."""
    items = find_json(text, list, accept=lambda v: any(isinstance(x, dict) for x in v))
    if items is not None:
        out = []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("instruction"), str):
                out.append({k: str(item.get(k) or "").strip()
                            for k in ("instruction", "input", "output")})
        return out
    return [{"instruction": m.group(1).strip(), "input": "", "output": ""}
            for line in text.splitlines() if (m := _NUMBERED.match(line))]


def template_markers(template: PromptTemplate) -> list[str]:
    """Section headings of a template (`# 例`...): a candidate containing one copied the prompt."""
    return [ln.strip() for ln in template.text.splitlines()
            if ln.startswith("# ") and len(ln.strip()) > 3]


def _examples_block(examples: list[str]) -> str:
    return "\n".join(f"{i}. {e}" for i, e in enumerate(examples, 1))


def self_instruct(seeds: list[Conversation], run: SynthRun, config: SelfInstructConfig) -> None:
    template = check_fields(load_prompt(config.template), {"examples", "num"})
    human = [(s.id, s.instruction.strip()) for s in seeds if s.instruction.strip()]
    if not human:
        raise DataError("no seed has a user instruction", field="messages",
                        hint="give seed records with at least one user message")
    run.inputs = len(seeds)
    words = load_word_list(config.blocklist, "task_blocklist.txt") if config.blocklist else None
    chain = instruction_filters(config.min_chars, config.max_chars, words, config.min_japanese)
    markers = template_markers(template)
    pool = NoveltyFilter(config.novelty_threshold)
    pool.extend([text for _, text in human])
    machine: list[str] = []
    params = config.params()
    kept = idle = 0
    call_index = 0
    with progress() as bar:
        task = bar.add_task("self-instruct", total=config.target)
        for rnd in range(config.max_rounds):
            if kept >= config.target:
                break
            prompts: list[tuple[list[tuple[str, str]], list[str], LLMRequest]] = []
            for j in range(config.requests_per_round):
                rng = random.Random(f"{config.seed}:{rnd}:{j}")
                h = rng.sample(human, min(config.human_examples, len(human)))
                m = rng.sample(machine, min(config.machine_examples, len(machine)))
                shown = [t for _, t in h] + m
                rng.shuffle(shown)
                text = template.render(examples=_examples_block(shown), num=str(config.per_prompt))
                req = LLMRequest(messages=[{"role": "user", "content": text}], params=params,
                                 sample_index=call_index)
                call_index += 1
                prompts.append((h, shown, req))
            gens = run.generate([r for _, _, r in prompts])
            kept_before = kept
            for j, ((h, shown, req), gen) in enumerate(zip(prompts, gens, strict=True)):
                candidates = parse_candidates(gen.text)
                if not candidates:
                    run.drop(f"si-r{rnd}-p{j}", "unparsable", "no tasks found in the answer",
                             answer=gen.text)
                    continue
                copied = NotCopied(shown, markers)
                for k, cand in enumerate(candidates):
                    if kept >= config.target:
                        break
                    run.generated += 1
                    kept += _consider(cand, run, chain, copied, pool, machine, template.name,
                                      params, req.sample_index, [i for i, _ in h],
                                      f"si-r{rnd}-p{j}-c{k}")
            bar.update(task, completed=min(kept, config.target))
            idle = idle + 1 if kept == kept_before else 0
            if idle >= config.patience:
                warn(f"self-instruct: nothing new kept for {idle} rounds; stopping at {kept}")
                break
    if kept < config.target:
        warn(f"self-instruct kept {kept} of the {config.target} asked for")


def _consider(
    cand: dict[str, str], run: SynthRun, chain: Any, copied: NotCopied, pool: NoveltyFilter,
    machine: list[str], template: str, params: GenerationParams, sample_index: int,
    seed_ids: list[str], reject_id: str,
) -> int:
    instruction = cand["instruction"]
    failure = chain.first_failure(instruction, extra=[copied])
    if failure is not None:
        run.drop(reject_id, failure[0], failure[1], candidate=cand)
        return 0
    verdict = pool.offer(instruction)
    if not verdict.novel:
        nearest = pool.texts[verdict.nearest] if verdict.nearest is not None else ""
        run.drop(reject_id, "not_novel", f"ROUGE-L {verdict.max_score:.3f} > "
                 f"{pool.threshold} vs '{nearest}'", candidate=cand)
        return 0
    machine.append(instruction)
    user = instruction + (f"\n\n{cand['input']}" if cand["input"] else "")
    messages = [Message(role="user", content=user)]
    if cand["output"]:
        messages.append(Message(role="assistant", content=cand["output"]))
    run.keep(Conversation(
        id=record_id("si", instruction, cand["input"]),
        messages=messages,
        metadata=run.provenance(template=template, params=params, sample_index=sample_index,
                                seed_ids=seed_ids),
    ))
    return 1

