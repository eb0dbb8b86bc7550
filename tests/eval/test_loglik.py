"""Log-likelihood scoring equals lm-evaluation-harness's rule on every item, per tokenizer kind.

Four tokenizers, all trained here: byte-level BPE; SentencePiece with a dummy prefix
("▁" before every text, as in Llama-2 / llm-jp / Swallow), where encoding the choice
apart from the prompt scores different tokens; the BPE tokenizer with a BOS token that
it defines but does not add; and one whose post-processor does add BOS.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.conftest import sample_corpus_lines
from tests.eval.lm_eval_reference import argmax, lm_eval_logprobs

from oshie.eval.runner import run_eval

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def sp_model_dir(tmp_path_factory) -> Path:
    from oshie.train.tiny import init_model
    from oshie.train.tokenizer import train_sentencepiece_tokenizer

    tok = train_sentencepiece_tokenizer(sample_corpus_lines(), 2000, tmp_path_factory.mktemp("sp_tok"),
                                        add_dummy_prefix=True)
    return init_model(tok, tmp_path_factory.mktemp("sp_model"), preset="tiny", seed=1)


def _with_bos(src: Path, dst: Path, add: bool) -> Path:
    """A copy of the model whose tokenizer names <|endoftext|> its BOS; `add`: and prepends it."""
    from tokenizers import processors
    from transformers import AutoTokenizer

    shutil.copytree(src, dst)
    tok = AutoTokenizer.from_pretrained(dst)
    tok.bos_token = "<|endoftext|>"
    if add:
        bos = tok.bos_token_id
        tok.backend_tokenizer.post_processor = processors.TemplateProcessing(
            single="<|endoftext|> $A", pair="<|endoftext|> $A $B", special_tokens=[("<|endoftext|>", bos)])
    tok.save_pretrained(dst)
    return dst


@pytest.fixture(scope="module")
def models(tiny_model_dir, sp_model_dir, tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("bos")
    return {"bpe": tiny_model_dir, "sp_dummy_prefix": sp_model_dir,
            "bos_defined_not_added": _with_bos(tiny_model_dir, base / "defined", add=False),
            "bos_added": _with_bos(tiny_model_dir, base / "added", add=True)}


def _load(model_dir: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(model_dir).eval(), AutoTokenizer.from_pretrained(model_dir)


def _records(run: Path, task: str) -> list[dict]:
    return [json.loads(x) for x in (run / task / "items.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(("kind", "template"), [
    ("bpe", "instruction"), ("sp_dummy_prefix", "instruction"), ("sp_dummy_prefix", "plain"),
    ("bos_defined_not_added", "instruction"), ("bos_added", "instruction")])
def test_choice_logprobs_equal_lm_eval_rule_on_every_item(tmp_path, models, kind, template):
    model_dir = models[kind]
    model, tok = _load(model_dir)
    # the instruction runs in a 200-token window (--max-length): three shots overflow it,
    # so lm-eval's per-choice cut from the left is exercised too
    window = 200 if template == "instruction" else model.config.max_position_embeddings
    spec = {"task": "jcommonsenseqa", "data": FIX / "jcommonsenseqa_valid.jsonl",
            "train_data": FIX / "jcommonsenseqa_train.jsonl", "shots": 3, "template": template}
    results = run_eval(model_dir, [spec], tmp_path, batch_size=3,
                       max_length=window if template == "instruction" else None)
    records = _records(tmp_path, "jcommonsenseqa")
    assert len(records) == 8
    for rec in records:
        ref = lm_eval_logprobs(model, tok, rec["prompt"], rec["choices"], window)
        assert rec["logprobs"] == pytest.approx(ref, abs=1e-4), rec["id"]
        assert rec["pred"] == argmax(ref)
        norm = [lp / len(c) for lp, c in zip(ref, rec["choices"], strict=True)]
        assert rec["pred_norm"] == argmax(norm)  # acc_norm as lm-eval: per character of the choice
    assert results["jcommonsenseqa"]["acc_norm"]["value"] == sum(r["correct_norm"] for r in records) / 8
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["config"]["encoding"] == "joint"
    assert manifest["tasks"]["jcommonsenseqa"]["settings"]["encoding"] == "joint"
    if template == "instruction":
        assert results["jcommonsenseqa"]["truncated"]["count"] > 0
        assert results["jcommonsenseqa"]["truncated"]["max_length"] == 200


def test_label_words_follow_the_rule_with_a_dummy_prefix(tmp_path, sp_model_dir):
    model, tok = _load(sp_model_dir)
    run_eval(sp_model_dir, [{"task": "marc_ja", "data": FIX / "marc_ja_valid.jsonl"},
                            {"task": "jnli", "data": FIX / "jnli_valid.jsonl", "template": "plain"}],
             tmp_path, batch_size=4)
    for task in ("marc_ja", "jnli"):
        for rec in _records(tmp_path, task):
            ref = lm_eval_logprobs(model, tok, rec["prompt"], rec["choices"], 512)
            assert rec["logprobs"] == pytest.approx(ref, abs=1e-4)


def test_separate_encoding_is_a_named_deviation(tmp_path, models):
    """The earlier convention (choice encoded alone; BOS whenever defined) scores other tokens:
    the reference must tell it apart, and the manifest names it."""
    from oshie.eval.encoding import encode_choices
    from oshie.eval.lm import load_local_model
    from oshie.eval.requests import LoglikRequest

    lm = load_local_model(models["bos_defined_not_added"], device="cpu")
    req = LoglikRequest("質問: 日本の首都は？\n答え:", ["東京", "大阪"])
    assert encode_choices(lm, req, "separate").seqs[0][0] == lm.tokenizer.bos_token_id
    assert encode_choices(lm, req, "joint").seqs[0][0] != lm.tokenizer.bos_token_id
    kind = "sp_dummy_prefix"
    model, tok = _load(models[kind])
    spec = {"task": "jcommonsenseqa", "data": FIX / "jcommonsenseqa_valid.jsonl", "template": "plain"}
    run_eval(models[kind], [spec], tmp_path, batch_size=8, encoding="separate")
    differs = 0
    for rec in _records(tmp_path, "jcommonsenseqa"):
        ref = lm_eval_logprobs(model, tok, rec["prompt"], rec["choices"], 512)
        differs += any(abs(a - b) > 1e-3 for a, b in zip(rec["logprobs"], ref, strict=True))
    assert differs == 8
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["config"]["encoding"] == "separate"


def test_shared_prefix_scoring_equals_one_sequence_at_a_time_with_odd_choices(tiny_model_dir):
    """Choices that are prefixes of each other, share their first tokens, or sit after trailing
    spaces; batch sizes that mix them; and an empty context (the prefix token stands in)."""
    from oshie.eval.lm import load_local_model
    from oshie.eval.loglik import score_requests
    from oshie.eval.requests import LoglikRequest

    lm = load_local_model(tiny_model_dir, device="cpu")
    model, tok = lm.model, lm.tokenizer
    reqs = [LoglikRequest("質問: 日本の首都は？\n答え: ", ["東京", "東京都", "京都", "東"]),
            LoglikRequest("山の上から見た景色は", ["とても美しい", "とても", "美しい"]),
            LoglikRequest("次の文を読んで答えてください。\n\n", ["はい", "いいえ"])]
    for bs in (1, 2, 3):
        got = score_requests(lm, reqs, batch_size=bs)
        for req, scores in zip(reqs, got, strict=True):
            ref = lm_eval_logprobs(model, tok, req.context, req.continuations, 512)
            assert [s.logprob for s in scores] == pytest.approx(ref, abs=1e-4)
    empty = score_requests(lm, [LoglikRequest("", ["東京", "大阪"])])[0]
    for s, c in zip(empty, ["東京", "大阪"], strict=True):
        ids = tok(c, add_special_tokens=False)["input_ids"]
        seq = [lm.prefix_token_id, *ids]
        import torch

        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([seq[:-1]])).logits[0], -1)
        assert s.logprob == pytest.approx(sum(float(logp[t, x]) for t, x in enumerate(ids)), abs=1e-4)
