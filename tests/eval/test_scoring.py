"""Runner scoring on the tiny local model against a plain, unbatched transformers computation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.eval.lm_eval_reference import argmax, lm_eval_logprobs

from oshie.errors import DataError, UsageError
from oshie.eval.runner import run_eval

FIX = Path(__file__).parent / "fixtures"


def read_items(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def plain_model(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.mark.parametrize(("template", "batch_size", "limit"),
                         [("instruction", 3, 8), ("chat", 8, 4)])
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
    for rec in records:
        plain = lm_eval_logprobs(model, tok, rec["prompt"], rec["choices"], window)
        assert rec["logprobs"] == pytest.approx(plain, abs=1e-4)
        assert rec["pred"] == argmax(plain)
        norm = [lp / len(c) for lp, c in zip(plain, rec["choices"], strict=True)]
        assert rec["pred_norm"] == argmax(norm)
        correct += rec["pred"] == rec["gold"]
    if template == "instruction":  # 3 shots overflow the tiny window: the truncation rule is exercised
        assert results["jcommonsenseqa"]["truncated"]["count"] > 0
        assert sum(r["truncated_tokens"] > 0 for r in records) == results["jcommonsenseqa"]["truncated"]["count"]
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
        plain = lm_eval_logprobs(model, tok, rec["prompt"], rec["choices"], 512)
        assert rec["logprobs"] == pytest.approx(plain, abs=1e-4)
    first = read_items(tmp_path / "jnli" / "items.jsonl")
    # a full run resumes the 4 items of the limited run (limit is not a setting) and scores 2
    specs[0]["limit"] = None
    results = run_eval(tiny_model_dir, specs, tmp_path, batch_size=4)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["tasks"]["jnli"]["n_resumed"] == 4
    assert manifest["tasks"]["marc_ja"]["n_resumed"] == 5
    again = read_items(tmp_path / "jnli" / "items.jsonl")
    file_ids = [str(obj["sentence_pair_id"]) for obj in
                map(json.loads, (FIX / "jnli_valid.jsonl").read_text(encoding="utf-8").splitlines())]
    assert [r["id"] for r in again] == file_ids  # the data file's order, not longest first
    by_id = {r["id"]: r for r in again}
    for rec in first:
        assert by_id[rec["id"]]["logprobs"] == rec["logprobs"]  # kept, not recomputed
    # a changed setting (the template) is a different run: nothing is resumed
    specs[0]["template"] = "plain"
    run_eval(tiny_model_dir, specs, tmp_path, batch_size=4)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["tasks"]["jnli"]["n_resumed"] == 0
    assert set(results["jnli"]) == {"acc", "balanced_acc", "macro_f1", "truncated", "answer_cut"}
    assert results["jnli"]["truncated"]["count"] == 0
    assert results["jnli"]["acc"]["n"] == 6
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("jnli") >= 2
    assert manifest["inputs"]["jnli.data"]["sha256"]
    assert manifest["model"]["fingerprint"] == manifest["inputs"]["model"]["fingerprint"]


def test_generation_tasks(tmp_path, tiny_model_dir):
    specs = [{"task": "jsquad", "data": FIX / "jsquad_valid.json", "train_data": FIX / "jsquad_train.json"},
             {"task": "summarization", "data": FIX / "summarization.jsonl", "max_new_tokens": 8}]
    results = run_eval(tiny_model_dir, specs, tmp_path, batch_size=2)
    recs = read_items(tmp_path / "jsquad" / "items.jsonl")
    assert [r["id"] for r in recs] == ["a1000888p0q0", "a1000888p0q1", "a1000999p0q0"]  # file order
    # the JGLUE "title [SEP] passage" context: the title on its own line, the passage without it
    assert "題名: 富士山\n文章: 富士山は静岡県" in recs[0]["prompt"]
    assert "[SEP]" not in recs[0]["prompt"]
    assert all("\n" not in r["output"] for r in recs)
    assert recs[1]["gold"] == ["静岡県と山梨県", "静岡県と山梨県にまたがる"]
    assert recs[0]["prompt"].count("### 応答:") == 3  # two shots + the question
    assert set(results["jsquad"]) == {"em", "f1", "f1_char", "truncated", "answer_cut"}
    assert set(results["summarization"]) == {f"{m}_{u}" for m in ("rouge1", "rouge2", "rougeL")
                                             for u in ("char", "morph")} | {"truncated", "answer_cut"}
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


def _squad(path: Path, paragraphs: list[tuple[str, str, str, str]]) -> Path:
    data = [{"title": t, "paragraphs": [{"context": f"{t} [SEP] {ctx}", "qas": [
        {"id": f"q{k}", "question": q, "answers": [{"text": a, "answer_start": ctx.find(a)}]}]}]}
        for k, (t, ctx, q, a) in enumerate(paragraphs)]
    path.write_text(json.dumps({"version": "v1.1", "data": data}, ensure_ascii=False), encoding="utf-8")
    return path


def test_jsquad_truncation_counted_in_results_and_report(tmp_path, tiny_model_dir):
    filler = "この段落は長い説明のための文で、質問とは関係のない話が続きます。" * 40
    data = _squad(tmp_path / "long.json", [
        ("短い", "琵琶湖は滋賀県にある。", "琵琶湖はどこにある？", "滋賀県"),          # fits
        ("先頭", "答えは北海道である。" + filler, "答えはどこ？", "北海道"),           # cut, answer lost
        ("末尾", filler + "答えは沖縄県である。", "答えはどこ？", "沖縄県"),           # cut, answer kept
    ])
    spec = {"task": "jsquad", "data": data, "shots": 0, "max_new_tokens": 8}
    results = run_eval(tiny_model_dir, [spec], tmp_path / "run", batch_size=3)
    trunc, lost = results["jsquad"]["truncated"], results["jsquad"]["answer_cut"]
    assert (trunc["count"], trunc["n"], trunc["max_length"]) == (2, 3, 512)
    assert lost["count"] == 1
    recs = {r["id"]: r for r in read_items(tmp_path / "run" / "jsquad" / "items.jsonl")}
    assert recs["q0"]["truncated_tokens"] == 0 and not recs["q0"]["answer_lost"]
    assert recs["q1"]["truncated_tokens"] > 0 and recs["q1"]["answer_lost"]
    assert recs["q2"]["truncated_tokens"] > 0 and not recs["q2"]["answer_lost"]
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["jsquad"]["truncated"]["count"] == 2 and saved["jsquad"]["answer_cut"]["count"] == 1
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    cut = [recs[q]["truncated_tokens"] for q in ("q1", "q2")]
    assert manifest["truncation"]["jsquad"] == {
        "items_cut": 2, "answer_cut": 1, "max_length": 512, "rule": "left",
        "tokens_cut": sum(cut), "max_tokens_cut": max(cut)}
    report = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert (f"2 of 3 prompts cut to fit 512 tokens ({sum(cut)} tokens cut, at most {max(cut)} "
            "from one item; left:") in report
    assert "; 1 of them lost the question" in report
    # the refusal mode names the first over-long item and scores nothing
    with pytest.raises(DataError, match="item 'q1'") as err:
        run_eval(tiny_model_dir, [spec], tmp_path / "strict", truncation="error")
    assert str(data) in str(err.value)
    # a window large enough for every prompt (--max-length) cuts nothing
    roomy = run_eval(tiny_model_dir, [spec], tmp_path / "roomy", max_length=4096)
    assert roomy["jsquad"]["truncated"]["count"] == 0


def test_results_json_is_strict_when_a_metric_has_no_items(tmp_path):
    from oshie.eval.metrics.bootstrap import mean_entry
    from oshie.runs import write_json

    entry = mean_entry([], note="mean 1-5 over parsed verdicts")
    assert entry["value"] is None and entry["ci95"] == [None, None]
    assert "no items" in entry["note"] and entry["note"].startswith("mean 1-5")
    write_json(tmp_path / "r.json", {"x": entry, "stray": float("nan"), "inf": [float("inf")]})

    def refuse(name: str):
        raise ValueError(f"non-standard JSON constant {name}")

    loaded = json.loads((tmp_path / "r.json").read_text(), parse_constant=refuse)
    assert loaded["stray"] is None and loaded["inf"] == [None]


def test_chat_template_fallback_warns(tiny_tokenizer_dir, capsys):
    from transformers import AutoTokenizer

    from oshie.eval.prompting import chat_formatter

    tok = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    chat_formatter(tok)
    assert "chat template" not in capsys.readouterr().err  # it has one: no warning
    tok.chat_template = None
    fmt = chat_formatter(tok)
    assert fmt([{"role": "user", "content": "こんにちは"}]).endswith("<|im_start|>assistant\n")
    assert "no chat template" in capsys.readouterr().err
