"""`screen`: an LLM judge tags each record; a keep-expression decides what stays.

The judge answers JSON (input_quality 1-5, difficulty, category, safety, quality 1-5).
The answer is parsed tolerantly and each tag normalised ("4点" -> 4, "Safe" -> "safe");
an answer with no usable tags is asked again once with another sample, then the record is
set aside as `judge_unparsable`. Tags go into the record's metadata under `screen`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oshie.llm.base import GenerationParams, LLMRequest
from oshie.prompts import check_fields, load_prompt
from oshie.records import Conversation
from oshie.synth.jsonparse import find_json
from oshie.synth.keep_expr import KeepExpression
from oshie.synth.run import SynthRun

TAGS = ("input_quality", "difficulty", "category", "safety", "quality")
_INT_TAGS = {"input_quality": (1, 5), "quality": (1, 5)}
_CHOICE_TAGS = {"difficulty": ("easy", "medium", "hard"), "safety": ("safe", "unsafe")}
_JA_CHOICES = {"易しい": "easy", "簡単": "easy", "普通": "medium", "難しい": "hard",
               "安全": "safe", "危険": "unsafe", "有害": "unsafe"}


class ScreenConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep: str | None = Field(None, description=(
        "Keep-expression over the tags, e.g. \"quality>=4 and safety=='safe'\"; "
        "without it every tagged record is kept."))
    template: str = Field("synth_screen_v1", description="Judge prompt template name or path.")
    max_tokens: int = Field(256, ge=1, description="Longest judge answer, in tokens.")
    temperature: float = Field(0.0, ge=0, description="Judge sampling temperature.")
    retries: int = Field(1, ge=0, description="Extra judge samples when the answer is unusable.")


def format_conversation(rec: Conversation) -> str:
    role_ja = {"user": "利用者", "assistant": "アシスタント", "system": "システム"}
    return "\n\n".join(f"【{role_ja[m.role]}】\n{m.content}" for m in rec.all_messages())


def normalise_tags(raw: dict[str, Any]) -> dict[str, Any]:
    """Known tags coerced to their types; unknown keys kept as given; bad values dropped."""
    tags: dict[str, Any] = {}
    for key, value in raw.items():
        key = str(key).strip().lower()
        if key in _INT_TAGS:
            lo, hi = _INT_TAGS[key]
            m = re.search(r"-?\d+(?:\.\d+)?", str(value).translate(_FULLWIDTH_DIGITS))
            if m and lo <= float(m.group()) <= hi:
                num = float(m.group())
                tags[key] = int(num) if num.is_integer() else num
        elif key in _CHOICE_TAGS:
            text = str(value).strip().lower()
            text = _JA_CHOICES.get(text, text)
            if text in _CHOICE_TAGS[key]:
                tags[key] = text
        elif isinstance(value, str | int | float | bool):
            tags[key] = value.strip() if isinstance(value, str) else value
    return tags


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９．", "0123456789.")


def parse_tags(text: str) -> dict[str, Any] | None:
    """Tags from a judge answer, or None when it has none of the known tags."""
    raw = find_json(text, dict, accept=lambda d: any(str(k).lower() in TAGS for k in d))
    if raw is None:
        return None
    tags = normalise_tags(raw)
    return tags if any(t in tags for t in TAGS) else None


def screen(records: list[Conversation], run: SynthRun, config: ScreenConfig) -> None:
    template = check_fields(load_prompt(config.template), {"conversation"})
    keep = KeepExpression(config.keep, TAGS) if config.keep else None
    params = GenerationParams(max_tokens=config.max_tokens, temperature=config.temperature)
    run.inputs = len(records)
    prompts = {r.id: template.render(conversation=format_conversation(r)) for r in records}
    tags: dict[str, dict[str, Any]] = {}
    answers: dict[str, str] = {}
    todo = list(records)
    for attempt in range(config.retries + 1):
        if not todo:
            break
        gens = run.generate(
            [LLMRequest(messages=[{"role": "user", "content": prompts[r.id]}], params=params,
                        sample_index=attempt) for r in todo],
            desc="screen" if attempt == 0 else "screen: retry")
        again = []
        for rec, gen in zip(todo, gens, strict=True):
            answers[rec.id] = gen.text
            parsed = parse_tags(gen.text)
            if parsed is None:
                again.append(rec)
            else:
                tags[rec.id] = parsed
        todo = again
    for rec in records:
        run.generated += 1
        if rec.id not in tags:
            run.drop(rec.id, "judge_unparsable", "no tags in the judge's answer",
                     answer=answers.get(rec.id, ""), record=rec.model_dump(mode="json"))
            continue
        t = tags[rec.id]
        out = rec.model_copy(deep=True)
        extra = dict(out.metadata.model_extra or {})
        out.metadata = out.metadata.model_copy(update={
            **extra, "screen": t, "screen_model": run.generator,
            "screen_template": template.name,
        })
        if keep is not None and not keep(t):
            run.drop(rec.id, "keep_expression", f"{config.keep} is false for {t}",
                     record=out.model_dump(mode="json", exclude_none=True))
            continue
        run.keep(out)
    run.templates.add(template.name)
