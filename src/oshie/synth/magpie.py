"""`magpie`: instructions drawn out of an aligned model by its own chat template (Xu et al., 2024).

An aligned model given only the part of its chat template that precedes a user message
(`<|im_start|>user\\n` for ChatML) completes it with a plausible user query. The prefix is
derived from the tokenizer's chat template by rendering a user turn around a marker, so
it is right for any template; the text after the marker gives the stop string. Queries
are cut at the stop string and dropped when empty, too short, not Japanese, blocked or
(near-)duplicate; the survivors are then answered by the same model.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from oshie.errors import ModelError, require
from oshie.llm.base import GenerationParams, LLMRequest
from oshie.records import Conversation, Message
from oshie.synth.answers import AnswerMaxTokens, answer_problem, answer_request
from oshie.synth.filters import MinJapanese, instruction_filters, load_word_list
from oshie.synth.novelty import NoveltyFilter
from oshie.synth.run import SynthRun, record_id

_MARK = "@@OSHIE_MAGPIE_QUERY@@"


class MagpieConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(100, ge=1, description="Queries to sample from the model.")
    pre_query: str | None = Field(None, description=(
        "The template prefix to send; default: derived from the model's chat template."))
    stop: list[str] | None = Field(None, description=(
        "Stop strings for the query; default: what follows the user message in the template."))
    system: str | None = Field(None, description="System prompt placed before the user turn.")
    temperature: float = Field(1.0, ge=0, description="Sampling temperature of the queries.")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling mass of the queries.")
    max_tokens: int = Field(128, ge=1, description="Longest query, in tokens.")
    answer: bool = Field(True, description="Also answer each kept query.")
    answer_temperature: float = Field(0.7, ge=0, description="Sampling temperature of answers.")
    answer_max_tokens: AnswerMaxTokens = 1024
    min_chars: int = Field(6, ge=1, description="Shortest query, in characters.")
    max_chars: int = Field(500, ge=1, description="Longest query, in characters.")
    min_japanese: MinJapanese = 0.5
    blocklist: str | None = Field(None, description="Task blocklist file; default: shipped list.")
    dedup_threshold: float = Field(0.9, ge=0, le=1, description=(
        "Drop a query whose character ROUGE-L F against an earlier kept one exceeds this "
        "(higher than self-instruct's 0.7: short queries share their frame, e.g. 〜について"
        "教えてください, yet ask different things)."))
    seed: int = Field(0, description="Base seed (query k uses seed + k).")


def split_rendered(text: str) -> tuple[str, str]:
    """A chat rendered around the marker user message -> (text before it, text after it)."""
    if _MARK not in text:
        raise ModelError("the chat template does not show the user message",
                         hint="pass the prefix yourself with --pre-query")
    before, after = text.split(_MARK, 1)
    return before, after


def pre_query_from_model(model_dir: str | Path, system: str | None = None) -> tuple[str, list[str]]:
    """The pre-query prefix and stop strings for the chat template of a local model dir."""
    transformers = require("transformers", "train")
    from oshie.llm.local import CHATML_FALLBACK

    try:
        tok = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load a tokenizer from {model_dir}: {exc}", path=model_dir,
                         hint="give a model directory with tokenizer files") from exc
    template = tok.chat_template or CHATML_FALLBACK
    if isinstance(template, dict):  # several named templates: use the default one
        template = template.get("default") or next(iter(template.values()))
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": _MARK}]
    try:
        rendered = tok.apply_chat_template(messages, chat_template=template, tokenize=False,
                                           add_generation_prompt=False)
    except Exception as exc:  # jinja errors from a user's template: say which model
        raise ModelError(f"cannot render the chat template of {model_dir}: {exc}",
                         path=model_dir, hint="pass the prefix yourself with --pre-query") from exc
    before, after = split_rendered(rendered)
    # the end-of-turn marker is the first non-empty line after the user message
    stop = next((line.strip() for line in after.splitlines() if line.strip()), "")
    stops = list(dict.fromkeys(s for s in (stop, tok.eos_token or "") if s))
    return before, stops


# End-of-turn markers of common template families, for a --pre-query given without --stop.
_KNOWN_STOPS = {"<|im_start|>": "<|im_end|>", "<|start_header_id|>": "<|eot_id|>",
                "[INST]": "[/INST]", "<start_of_turn>": "<end_of_turn>", "<|user|>": "<|end|>"}


def default_stops(pre_query: str) -> list[str]:
    return [end for start, end in _KNOWN_STOPS.items() if start in pre_query]


def clean_query(text: str, stops: list[str]) -> str:
    """The query up to the first stop string or special-token-looking marker (`<|`)."""
    cut = min((i for s in [*stops, "<|"] if (i := text.find(s)) != -1), default=len(text))
    return text[:cut].strip()


def magpie(run: SynthRun, config: MagpieConfig, model_dir: str | Path | None = None) -> None:
    if config.pre_query is not None:
        pre_query = config.pre_query
        stops = list(config.stop) if config.stop else default_stops(pre_query)
    elif model_dir is not None:
        pre_query, stops = pre_query_from_model(model_dir, config.system)
        stops = config.stop or stops
    else:
        raise ModelError("magpie needs the model's chat template",
                         hint="use --local MODEL_DIR, --template-from MODEL_DIR, or --pre-query")
    params = GenerationParams(max_tokens=config.max_tokens, temperature=config.temperature,
                              top_p=config.top_p, stop=stops or None, seed=config.seed)
    answer_params = GenerationParams(max_tokens=config.answer_max_tokens,
                                     temperature=config.answer_temperature, seed=config.seed)
    words = load_word_list(config.blocklist, "task_blocklist.txt") if config.blocklist else None
    chain = instruction_filters(config.min_chars, config.max_chars, words, config.min_japanese)
    pool = NoveltyFilter(config.dedup_threshold)
    gens = run.generate([LLMRequest(prompt=pre_query, params=params, sample_index=k)
                         for k in range(config.n)], desc="magpie: queries")
    kept: list[tuple[int, str]] = []
    for k, gen in enumerate(gens):
        run.generated += 1
        query = clean_query(gen.text, stops)
        rid = f"magpie-q{k}"
        failure = chain.first_failure(query)
        if failure is not None:
            run.drop(rid, failure[0], failure[1], query=gen.text)
            continue
        verdict = pool.offer(query)
        if not verdict.novel:
            run.drop(rid, "duplicate", f"ROUGE-L {verdict.max_score:.3f} vs an earlier query",
                     query=query)
            continue
        kept.append((k, query))
    answers: list = [None] * len(kept)
    if config.answer:
        answers = run.generate([answer_request(config.system, [Message(role="user", content=q)],
                                               answer_params) for _, q in kept],
                               desc="magpie: answers")
    run.templates.add("magpie_pre_query")
    for (k, query), gen in zip(kept, answers, strict=True):
        messages = [Message(role="user", content=query)]
        rid = record_id("magpie", query)
        if gen is not None:
            problem = answer_problem(gen)
            if problem:
                run.drop(rid, *problem, query=query, answer=gen.text)
                continue
            messages.append(Message(role="assistant", content=gen.text.strip()))
        run.keep(Conversation(
            id=rid, system=config.system, messages=messages,
            metadata=run.provenance(template="magpie_pre_query", params=params, sample_index=k,
                                    pre_query=pre_query,
                                    answer_params=answer_params.model_dump(exclude_none=True)
                                    if config.answer else None),
        ))
