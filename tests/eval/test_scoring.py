"""Runner scoring on the tiny local model against a plain, unbatched transformers computation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oshie.errors import DataError, UsageError
from oshie.eval.runner import run_eval

FIX = Path(__file__).parent / "fixtures"


def plain_choice_logprob(model, tokenizer, prompt: str, choice: str, room: int | None = None) -> float:
    """The boundary rule written out: tokenise prompt and choice separately, concatenate
    the ids, one forward pass, sum log-softmax over the choice tokens. A prompt longer
    than `room` keeps only its last `room` tokens (the model's window minus the longest choice)."""
    import torch

    ctx = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    if tokenizer.bos_token_id is not None:
        ctx = [tokenizer.bos_token_id, *ctx]
    if room is not None and len(ctx) > room:
        ctx = ctx[-room:]
    cont = tokenizer(choice, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([ctx + cont])
    with torch.no_grad():
        logp = torch.log_softmax(model(ids).logits[0].float(), dim=-1)
    return sum(float(logp[len(ctx) - 1 + t, tok]) for t, tok in enumerate(cont))


def read_items(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def plain_model(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.mark.parametrize(("template", "batch_size", "limit"),
                         [("instruction", 3, 8), ("chat", 8, 4), ("plain", 1, 4)])
def test_jcommonsenseqa_matches_plain_transformers(tmp_path, tiny_model_dir, plain_model,
                                                   template, batch_size, limit):
    spec = {"task": "jcommonsenseqa", "data": FIX / "jcommonsenseqa_valid.jsonl",
            "train_data": FIX / "jcommonsenseqa_train.jsonl", "shots": 3, "template": template,
            "limit": limit}
    results = run_eval(tiny_model_dir, [spec], tmp_path, batch_size=batch_size)
    model, tok = plain_model
    records = read_items(tmp_path / "jcommonsenseqa" / "items.jsonl")
    assert len(records) == limit
    correct = 0
    window = model.config.max_position_embeddings  # 512 for the tiny model
    truncated = 0
    for rec in records:
        longest = max(len(tok(c, add_special_tokens=False)["input_ids"]) for c in rec["choices"])
        room = window - longest
        truncated += len(tok(rec["prompt"], add_special_tokens=False)["input_ids"]) > room
        plain = [plain_choice_logprob(model, tok, rec["prompt"], c, room) for c in rec["choices"]]
        assert rec["logprobs"] == pytest.approx(plain, abs=1e-4)
        assert rec["pred"] == max(range(5), key=plain.__getitem__)
        norm = [lp / len(c) for lp, c in zip(plain, rec["choices"], strict=True)]
        assert rec["pred_norm"] == max(range(5), key=norm.__getitem__)
        correct += rec["pred"] == rec["gold"]
    if template == "instruction":  # 3 shots overflow the tiny window: the truncation rule is exercised
        assert truncated > 0
    assert results["jcommonsenseqa"]["acc"]["value"] == correct / limit
    assert results["jcommonsenseqa"]["acc"]["n"] == limit
    lo, hi = results["jcommonsenseqa"]["acc"]["ci95"]
    assert lo <= correct / limit <= hi
    # three fixed few-shot examples precede every question, each ending in its gold answer
    first = records[0]["prompt"]
    assert first.count("質問:") == 4
    if template == "instruction":
        assert first.count("### 応答:") == 4 and first.endswith("### 応答:\n")
    if template == "chat":
        assert first.endswith("<|im_start|>assistant\n")


def test_label_tasks_and_resume(tmp_path, tiny_model_dir, plain_model):
    specs = [{"task": "jnli", "data": FIX / "jnli_valid.jsonl", "limit": 4},
             {"task": "marc_ja", "data": FIX / "marc_ja_valid.jsonl"}]
    run_eval(tiny_model_dir, specs, tmp_path, batch_size=4)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["tasks"]["jnli"]["n_resumed"] == 0
    model, tok = plain_model
    for rec in read_items(tmp_path / "marc_ja" / "items.jsonl"):
        assert rec["choices"] == ["ポジティブ", "ネガティブ"]
        plain = [plain_choice_logprob(model, tok, rec["prompt"], c) for c in rec["choices"]]
        assert rec["logprobs"] == pytest.approx(plain, abs=1e-4)
    first = read_items(tmp_path / "jnli" / "items.jsonl")
    # a second run over all 6 items scores only the 2 new ones and keeps the first 4 as they were
    specs[0]["limit"] = None
    results = run_eval(tiny_model_dir, specs, tmp_path, batch_size=4)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["tasks"]["jnli"]["n_resumed"] == 0  # limit is part of the settings key
    specs[0]["limit"] = 6
    run_eval(tiny_model_dir, specs, tmp_path, batch_size=4)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["tasks"]["jnli"]["n_resumed"] == 0
    results = run_eval(tiny_model_dir, specs, tmp_path, batch_size=4)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["tasks"]["jnli"]["n_resumed"] == 6
    assert manifest["tasks"]["marc_ja"]["n_resumed"] == 5
    again = {r["id"]: r for r in read_items(tmp_path / "jnli" / "items.jsonl")}
    for rec in first:
        assert again[rec["id"]]["logprobs"] == pytest.approx(rec["logprobs"], abs=1e-5)
    assert set(results["jnli"]) == {"acc", "balanced_acc", "macro_f1"}
    assert results["jnli"]["acc"]["n"] == 6
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("jnli") >= 2
    assert manifest["inputs"]["jnli.data"]["sha256"]
    assert manifest["model"]["fingerprint"] == manifest["inputs"]["model"]["fingerprint"]


def test_generation_tasks(tmp_path, tiny_model_dir):
    specs = [{"task": "jsquad", "data": FIX / "jsquad_valid.json", "train_data": FIX / "jsquad_train.json"},
             {"task": "summarization", "data": FIX / "summarization.jsonl", "max_new_tokens": 8}]
    results = run_eval(tiny_model_dir, specs, tmp_path, batch_size=2)
    recs = read_items(tmp_path / "jsquad" / "items.jsonl")
    recs.sort(key=lambda r: r["id"])  # written in batch order
    assert [r["id"] for r in recs] == ["a1000888p0q0", "a1000888p0q1", "a1000999p0q0"]
    assert all("\n" not in r["output"] for r in recs)
    assert recs[1]["gold"] == ["静岡県と山梨県", "静岡県と山梨県にまたがる"]
    assert recs[0]["prompt"].count("### 応答:") == 3  # two shots + the question
    assert set(results["jsquad"]) == {"em", "f1", "f1_char"}
    assert set(results["summarization"]) == {f"{m}_{u}" for m in ("rouge1", "rouge2", "rougeL")
                                             for u in ("char", "morph")}
    assert results["summarization"]["rougeL_char"]["unit"] == "char"
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["tasks"]["summarization"]["settings"]["max_new_tokens"] == 8


def test_generation_batched_equals_unbatched(tmp_path, tiny_model_dir):
    from oshie.eval.generation import generate_requests
    from oshie.eval.lm import load_local_model
    from oshie.eval.requests import GenerateRequest

    lm = load_local_model(tiny_model_dir)
    reqs = [GenerateRequest("質問: " + "とても" * k + "大事なことは？\n答え:", max_new_tokens=6, stop=["\n"])
            for k in range(5)]
    assert generate_requests(lm, reqs, batch_size=5) == generate_requests(lm, reqs, batch_size=1)


def test_json_array_reads_like_json_lines(tmp_path):
    from oshie.eval.tasks.base import read_jsonl

    lines = read_jsonl(FIX / "marc_ja_valid.jsonl")
    array = tmp_path / "marc.json"
    array.write_text(json.dumps([obj for _, obj in lines], ensure_ascii=False), encoding="utf-8")
    assert [obj for _, obj in read_jsonl(array)] == [obj for _, obj in lines]


def test_bad_data_names_file_line_and_field(tmp_path, tiny_model_dir):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q_id": 1, "question": "q", "choice0": "a", "choice1": "b", "choice2": "c", '
                   '"choice3": "d", "choice4": "e", "label": 0}\n{"q_id": 2, "question": "q"}\n',
                   encoding="utf-8")
    with pytest.raises(DataError) as err:
        run_eval(tiny_model_dir, [{"task": "jcommonsenseqa", "data": bad}], tmp_path / "out")
    assert err.value.line == 2 and err.value.field == "choice0" and str(bad) in str(err.value)
    with pytest.raises(UsageError, match="--train-data"):
        run_eval(tiny_model_dir, [{"task": "jcommonsenseqa", "data": bad, "shots": 3}], tmp_path / "o")
    with pytest.raises(UsageError, match="unknown task"):
        run_eval(tiny_model_dir, [{"task": "nope", "data": bad}], tmp_path / "o")
