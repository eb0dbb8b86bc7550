"""LocalLLM on the tiny random Llama: batching, per-request seeds, stops, limits, cache."""

from __future__ import annotations

import pytest

from oshie.errors import LLMError, ModelError
from oshie.llm import CachedLLM, GenerationParams, LLMRequest, LocalLLM


@pytest.fixture(scope="module")
def llm(tiny_model_dir) -> LocalLLM:
    return LocalLLM(tiny_model_dir, batch_size=4)


def sampled(prompt: str, seed: int, **kw) -> LLMRequest:
    return LLMRequest(
        prompt=prompt,
        params=GenerationParams(
            max_tokens=kw.pop("max_tokens", 10), temperature=1.0, seed=seed, **kw
        ),
    )


def test_chat_and_completion_with_usage(llm):
    chat = LLMRequest(
        messages=[
            {"role": "system", "content": "簡潔に。"},
            {"role": "user", "content": "東京について"},
        ],
        params=GenerationParams(max_tokens=5),
    )
    comp = LLMRequest(prompt="むかしむかし", params=GenerationParams(max_tokens=7))
    a, b = llm.generate([chat, comp])
    assert a.usage.prompt_tokens == len(llm.prompt_ids(chat))
    assert b.usage.prompt_tokens == len(llm.prompt_ids(comp))
    for gen, limit in ((a, 5), (b, 7)):
        assert gen.finish_reason in ("stop", "length")
        assert gen.usage.completion_tokens == limit or gen.finish_reason == "stop"


def test_chat_uses_the_template_and_falls_back_to_chatml(llm):
    req = LLMRequest(messages=[{"role": "user", "content": "やあ"}])
    text = llm.tokenizer.decode(llm.prompt_ids(req))
    assert "やあ" in text and text.rstrip().endswith("assistant")
    saved = llm.tokenizer.chat_template
    try:
        llm.tokenizer.chat_template = None
        assert (
            llm.tokenizer.decode(llm.prompt_ids(req))
            == "<|im_start|>user\nやあ<|im_end|>\n<|im_start|>assistant\n"
        )
    finally:
        llm.tokenizer.chat_template = saved


def test_seeded_sample_is_the_same_alone_or_in_any_batch(llm):
    target = sampled("猫が", seed=42)
    alone = llm.generate([target])[0].text
    mixed = llm.generate(
        [
            sampled("犬は長い文章を書きます", 1),
            target,
            LLMRequest(prompt="空", params=GenerationParams(max_tokens=3)),
            sampled("鳥", 2, top_p=0.5),
        ]
    )
    assert mixed[1].text == alone
    assert llm.generate([target])[0].text == alone
    others = {llm.generate([sampled("猫が", seed=s)])[0].text for s in (43, 44, 45)}
    assert len(others | {alone}) > 1  # a different seed samples differently


def test_sample_index_varies_the_sample(llm):
    reqs = [
        LLMRequest(
            prompt="海",
            params=GenerationParams(max_tokens=8, temperature=1.0, seed=3),
            sample_index=i,
        )
        for i in range(3)
    ]
    texts = [g.text for g in llm.generate(reqs)]
    assert len(set(texts)) == 3


def test_stop_string_cuts_the_answer_before_it(llm):
    full = llm.generate([sampled("むかしむかし", 11, max_tokens=12)])[0]
    assert full.finish_reason == "length" and full.usage.completion_tokens == 12
    stop = next(ch for ch in full.text[2:] if ch.strip() and ch != "\ufffd")
    cut = llm.generate([sampled("むかしむかし", 11, max_tokens=12, stop=[stop, "存在しない"])])[0]
    assert cut.text == full.text[: full.text.index(stop)]
    assert cut.finish_reason == "stop" and cut.usage.completion_tokens < 12


def test_rows_keep_their_own_max_tokens(llm):
    short, long = llm.generate([sampled("a", 1, max_tokens=2), sampled("a", 1, max_tokens=9)])
    assert (short.usage.completion_tokens, long.usage.completion_tokens) == (2, 9)


def test_prompt_longer_than_the_model_is_an_error(llm):
    with pytest.raises(LLMError, match="positions"):
        llm.generate([LLMRequest(prompt="日本語の文章。" * 400)])


def test_cached_rerun_never_loads_the_model(tiny_model_dir, tmp_path):
    reqs = [
        sampled("雨", 5, max_tokens=4),
        LLMRequest(prompt="雪", params=GenerationParams(max_tokens=4)),
    ]
    first = CachedLLM(LocalLLM(tiny_model_dir), tmp_path / "c.sqlite").generate(reqs)
    fresh = LocalLLM(tiny_model_dir)
    again = CachedLLM(fresh, tmp_path / "c.sqlite").generate(reqs)
    assert [g.text for g in again] == [g.text for g in first]
    assert fresh._net is None


def test_not_a_model_dir_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match=r"config\.json"):
        LocalLLM(tmp_path)


def test_special_token_stop_strings_stop_as_token_ids(llm):
    req = LLMRequest(prompt="x", params=GenerationParams(stop=["<|im_start|>", "。"]))
    start = llm.tokenizer.convert_tokens_to_ids("<|im_start|>")
    assert llm._stop_token_ids(req) == {start}
    words = llm.tokenizer("東京と大阪", add_special_tokens=False)["input_ids"]
    gen = llm._finish(
        req, [*words, start, *words], budget=50, prompt_len=1, stop_ids=llm._stop_token_ids(req)
    )
    assert gen.text == "東京と大阪" and gen.finish_reason == "stop"
    assert gen.usage.completion_tokens == len(words) + 1


TEXT = "祖母は庭で小さな畑を作っている。"


def test_a_cut_inside_a_character_drops_its_partial_bytes(llm):
    ids = llm.tokenizer(TEXT, add_special_tokens=False)["input_ids"]
    # byte-level BPE with a tiny vocabulary spreads some kanji over several tokens
    cuts = [n for n in range(2, len(ids)) if len(llm.tokenizer.decode(ids[:n])) > 2
            and llm.tokenizer.decode(ids[:n]).endswith("\ufffd")]
    assert cuts
    req = LLMRequest(prompt="x", params=GenerationParams(max_tokens=cuts[0]))
    gen = llm._finish(req, ids[: cuts[0]], cuts[0], 1, set())
    assert gen.finish_reason == "length" and gen.usage.completion_tokens == cuts[0]
    assert "\ufffd" not in gen.text and gen.text and TEXT.startswith(gen.text)
    # a whole answer is left alone
    whole = llm._finish(req, ids, len(ids), 1, set())
    assert whole.text == TEXT


def test_chat_turns_end_at_im_end_even_when_eos_is_another_token(llm):
    """A model whose EOS is <|endoftext|> still ends a ChatML turn at <|im_end|>."""
    llm.load()
    im_end = llm.tokenizer.convert_tokens_to_ids("<|im_end|>")
    saved = llm.eos_ids
    llm.eos_ids = [llm.tokenizer.convert_tokens_to_ids("<|endoftext|>")]
    try:
        chat = LLMRequest(messages=[{"role": "user", "content": "やあ"}])
        stops = llm._stop_token_ids(chat)
        assert im_end in stops
        ids = llm.tokenizer(TEXT, add_special_tokens=False)["input_ids"]
        gen = llm._finish(chat, [*ids, im_end, *ids], 99, 1, stops)
        assert gen.finish_reason == "stop" and gen.text == TEXT
        assert im_end not in llm._stop_token_ids(LLMRequest(prompt="やあ"))  # raw completion
    finally:
        llm.eos_ids = saved
