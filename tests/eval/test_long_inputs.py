"""Inputs longer than the model's window: scored with an exact truncation count (`left`, the
default, or `input`, which keeps the instruction), or refused with a message naming the item
(`error`); one rule for every generation task, eval tasks and judged answers alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.openai_server import OpenAITestServer

from oshie.errors import DataError
from oshie.eval.encoding import fit_generation
from oshie.eval.judge import run_judge
from oshie.eval.lm import load_local_model
from oshie.eval.runner import run_eval
from oshie.eval.tasks import TaskSpec
from oshie.eval.tasks.summarization import Summarization
from oshie.llm.config import LLMConfig, build_llm

WINDOW, NEW = 160, 16
ARTICLE = ("冒頭の一文。" + "市の図書館は来月から開館時間を延ばし、平日は夜九時まで利用できるようになる。" * 30
           + "結びの一文。")


def _summaries(path: Path) -> Path:
    rows = [{"id": "short", "text": "公園の桜が咲いた。", "reference": "桜が咲いた。"},
            {"id": "long", "text": ARTICLE, "reference": "図書館の開館時間が延びる。"}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _items(run: Path) -> dict[str, dict]:
    lines = (run / "summarization" / "items.jsonl").read_text("utf-8").splitlines()
    return {r["id"]: r for r in map(json.loads, lines)}


def test_left_cut_is_counted_in_tokens_in_results_and_manifest(tmp_path, tiny_model_dir):
    data = _summaries(tmp_path / "s.jsonl")
    spec = {"task": "summarization", "data": data, "max_new_tokens": NEW}
    results = run_eval(tiny_model_dir, [spec], tmp_path / "run", max_length=WINDOW)
    # the count expected from the prompt's own encoding: all tokens past window - budget
    lm = load_local_model(tiny_model_dir)
    task = Summarization(TaskSpec(task="summarization", data=data, max_new_tokens=NEW))
    full = len(lm.encode_text(task.prompt(task.items[1])))
    assert full > WINDOW
    expected = full - (WINDOW - NEW)
    entry = results["summarization"]["truncated"]
    assert (entry["count"], entry["n"], entry["tokens_cut"], entry["max_tokens_cut"]) == (
        1, 2, expected, expected)
    assert entry["truncation"] == "left" and "generation budget kept" in entry["note"]
    items = _items(tmp_path / "run")
    assert (items["short"]["truncated_tokens"], items["long"]["truncated_tokens"]) == (0, expected)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text("utf-8"))
    assert manifest["config"]["truncation"] == "left"
    assert manifest["truncation"]["summarization"] == {
        "items_cut": 1, "answer_cut": 1, "max_length": WINDOW, "rule": "left",
        "tokens_cut": expected, "max_tokens_cut": expected}
    report = (tmp_path / "run" / "report.html").read_text("utf-8")
    assert f"1 of 2 prompts cut to fit {WINDOW} tokens ({expected} tokens cut" in report


def test_input_rule_cuts_the_article_and_keeps_instruction_and_budget(tmp_path, tiny_model_dir):
    lm = load_local_model(tiny_model_dir, max_length=WINDOW)
    task = Summarization(TaskSpec(task="summarization", data=_summaries(tmp_path / "s.jsonl")))
    prompt = task.prompt(task.items[1])
    left = fit_generation(lm, prompt, NEW, "left", ARTICLE, "x")
    kept = fit_generation(lm, prompt, NEW, "input", ARTICLE, "x")
    for enc in (left, kept):
        assert len(enc.ids) <= WINDOW - NEW and enc.dropped == enc.n_tokens - len(enc.ids) > 0
    # the left rule loses the instruction; the input rule keeps it and the article's end
    assert Summarization.instruction not in lm.tokenizer.decode(left.ids)
    text = lm.tokenizer.decode(kept.ids)
    assert Summarization.instruction in text and "### 応答" in text and "結びの一文。" in text
    assert "冒頭の一文" not in text and kept.visible(prompt).startswith("### 指示")
    results = run_eval(lm.path, [{"task": "summarization", "data": tmp_path / "s.jsonl",
                                  "max_new_tokens": NEW}], tmp_path / "run",
                       truncation="input", max_length=WINDOW)
    entry = results["summarization"]["truncated"]
    assert (entry["count"], entry["tokens_cut"], entry["truncation"]) == (1, kept.dropped, "input")
    assert _items(tmp_path / "run")["long"]["truncated_tokens"] == kept.dropped


def test_error_rule_refuses_naming_task_item_tokens_and_window(tmp_path, tiny_model_dir):
    data = _summaries(tmp_path / "s.jsonl")
    spec = {"task": "summarization", "data": data, "max_new_tokens": NEW}
    with pytest.raises(DataError) as err:
        run_eval(tiny_model_dir, [spec], tmp_path / "run", truncation="error", max_length=WINDOW)
    msg = str(err.value)
    lm = load_local_model(tiny_model_dir)
    task = Summarization(TaskSpec(task="summarization", data=data))
    n = len(lm.encode_text(task.prompt(task.items[1])))
    assert f"summarization item 'long': the prompt needs {n} tokens + {NEW} to generate" in msg
    assert f"window of {WINDOW} tokens" in msg and str(data) in msg
    assert not (tmp_path / "run" / "results.json").exists()  # nothing scored


def _judge_tasks(path: Path) -> Path:
    rows = ["id,input,output,eval_aspect", "a,日本の首都は？,東京,",
            f"b,{ARTICLE * 3}を要約してください。,図書館の開館時間が延びる。,"]
    path.write_text("\n".join(rows) + "\n", "utf-8")
    return path


def test_judged_answers_count_the_cut_or_refuse_naming_the_task(tmp_path, tiny_model_dir):
    tasks = _judge_tasks(tmp_path / "tasks.csv")
    with OpenAITestServer(lambda kind, body: "評価: 3") as srv:
        llm = build_llm(LLMConfig(backend="openai", base_url=srv.base_url, model="judge",
                                  api_key_env=None, max_retries=1))
        results = run_judge(tasks, tmp_path / "run", llm, model_dir=tiny_model_dir,
                            max_new_tokens=8)
        lm = load_local_model(tiny_model_dir)
        rows = [json.loads(x) for x in (tmp_path / "run" / "answers.jsonl").read_text("utf-8").splitlines()]
        from oshie.eval.prompting import chat_formatter

        n = len(lm.encode_text(chat_formatter(lm.tokenizer)([{"role": "user", "content": rows[1]["input"]}])))
        expected = n - (lm.max_length - 8)
        entry = results["judge"]["truncated"]
        assert (entry["count"], entry["tokens_cut"], entry["max_length"]) == (1, expected, 512)
        assert [r["truncated_tokens"] for r in rows] == [0, expected]
        manifest = json.loads((tmp_path / "run" / "manifest.json").read_text("utf-8"))
        assert manifest["truncation"]["tokens_cut"] == expected
        with pytest.raises(DataError, match=rf"judge task 'b': the prompt needs {n} tokens \+ 8"):
            run_judge(tasks, tmp_path / "strict", llm, model_dir=tiny_model_dir,
                      max_new_tokens=8, truncation="error")
