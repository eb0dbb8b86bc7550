"""`oshie eval` commands through the real typer app (single task, suite, judge, compare, errors)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.eval.test_judge import grade_responder, pair_responder, write_system, write_tasks
from tests.support.openai_server import OpenAITestServer
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.errors import ConfigError

FIX = Path(__file__).parent / "fixtures"
runner = CliRunner()


def test_eval_run_single_task_and_resume(tmp_path, tiny_model_dir):
    args = ["-q", "eval", "run", "--model", str(tiny_model_dir), "--task", "jcommonsenseqa",
            "--data", str(FIX / "jcommonsenseqa_valid.jsonl"), "--train-data",
            str(FIX / "jcommonsenseqa_train.jsonl"), "--shots", "1", "--limit", "3",
            "--template", "plain", "--out", str(tmp_path / "run")]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "acc_norm" in res.output
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["jcommonsenseqa"]["acc"]["n"] == 3
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["tasks"]["jcommonsenseqa"]["settings"]["shots"] == 1
    assert manifest["tasks"]["jcommonsenseqa"]["settings"]["template"] == "plain"
    assert manifest["inputs"]["jcommonsenseqa.train_data"]["sha256"]
    assert runner.invoke(app, args).exit_code == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["tasks"]["jcommonsenseqa"]["n_resumed"] == 3


def test_eval_run_suite(tmp_path, tiny_model_dir):
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        f"model: {tiny_model_dir}\nbatch_size: 4\ntasks:\n"
        f"  - task: marc_ja\n    data: {FIX / 'marc_ja_valid.jsonl'}\n    limit: 2\n"
        f"  - task: jnli\n    data: {FIX / 'jnli_valid.jsonl'}\n    limit: 2\n    template: plain\n",
        encoding="utf-8")
    res = runner.invoke(app, ["-q", "eval", "run", "--suite", str(suite), "--set", "batch_size=1",
                              "--set", "tasks.0.limit=1", "--out", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["config"]["batch_size"] == 1
    res = runner.invoke(app, ["eval", "run", "--suite", str(suite), "--set", "batchsize=1",
                              "--out", str(tmp_path / "s2")])
    assert isinstance(res.exception, ConfigError) and "batchsize" in str(res.exception)
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    assert set(results) == {"marc_ja", "jnli"}
    assert results["marc_ja"]["acc"]["n"] == 1 and results["jnli"]["acc"]["n"] == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"model: {tiny_model_dir}\ntasks:\n  - task: jnli\n    data: x.jsonl\n    shot: 2\n",
                   encoding="utf-8")
    res = runner.invoke(app, ["eval", "run", "--suite", str(bad), "--out", str(tmp_path / "b")])
    assert isinstance(res.exception, ConfigError)
    assert "tasks.0.shot" in str(res.exception) and "bad.yaml" in str(res.exception)


def test_eval_judge_and_compare_cli(tmp_path):
    tasks = write_tasks(tmp_path / "tasks.csv")
    answers = tmp_path / "sys.jsonl"
    answers.write_text(json.dumps({"id": "1", "answer": "東京"}, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    with OpenAITestServer(grade_responder) as srv:
        res = runner.invoke(app, ["-q", "eval", "judge", "--data", str(tasks), "--answers", str(answers),
                                  "--limit", "1", "--judge-base-url", srv.base_url,
                                  "--judge-model", "judge", "--set", "api_key_env=null",
                                  "--out", str(tmp_path / "j")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "j" / "results.json").read_text())["judge"]["score"]["value"] == 4
    assert (tmp_path / "j" / "answers.jsonl").is_file()
    runs = [write_system(tmp_path / "a.jsonl", "良"), write_system(tmp_path / "b.jsonl", "悪")]
    with OpenAITestServer(pair_responder) as srv:
        res = runner.invoke(app, ["-q", "eval", "compare", str(runs[0]), str(runs[1]),
                                  "--judge-base-url", srv.base_url, "--judge-model", "judge",
                                  "--set", "backoff_base=0", "--out", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    assert "a_vs_b" in json.loads((tmp_path / "c" / "results.json").read_text())
    res = runner.invoke(app, ["eval", "compare", str(runs[0]), str(runs[1]), "--out", str(tmp_path / "d")])
    assert "no model given" in str(res.exception)


def test_limited_run_is_the_start_of_the_full_run(tmp_path, tiny_model_dir):
    """`--limit 50` then the full file into the same -o: the 50 are resumed, only 10 scored."""
    data = tmp_path / "jnli.jsonl"
    labels = ("entailment", "contradiction", "neutral")
    data.write_text("".join(json.dumps({"sentence_pair_id": str(i), "sentence1": f"猫が{i}匹いる。",
                                        "sentence2": "動物がいる。", "label": labels[i % 3]},
                                       ensure_ascii=False) + "\n" for i in range(60)), encoding="utf-8")
    base = ["-q", "eval", "run", "-m", str(tiny_model_dir), "-t", "jnli", "--data", str(data),
            "--template", "plain", "--batch-size", "16", "--device", "cpu", "-o", str(tmp_path / "run")]
    assert runner.invoke(app, [*base, "--limit", "50"]).exit_code == 0
    limited = [json.loads(x) for x in (tmp_path / "run" / "jnli" / "items.jsonl").read_text().splitlines()]
    assert [r["id"] for r in limited] == [str(i) for i in range(50)]
    res = runner.invoke(app, base)
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["tasks"]["jnli"]["n_resumed"] == 50 and manifest["tasks"]["jnli"]["n_items"] == 60
    assert "limit" not in manifest["tasks"]["jnli"]["settings"]
    full = [json.loads(x) for x in (tmp_path / "run" / "jnli" / "items.jsonl").read_text().splitlines()]
    assert [r["id"] for r in full] == [str(i) for i in range(60)]  # file order, none lost
    assert [r["logprobs"] for r in full[:50]] == [r["logprobs"] for r in limited]  # reused as they were
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["jnli"]["acc"]["n"] == 60
    assert "truncated" in res.output and "count=0" in res.output  # the table shows the count


def test_all_unparsable_judge_run_writes_strict_json(tmp_path):
    """Every verdict unparsable: the mean is null with a note, and results.json is strict JSON."""
    tasks = write_tasks(tmp_path / "tasks.csv")
    answers = tmp_path / "sys.jsonl"
    answers.write_text("".join(json.dumps({"id": str(i), "answer": "x"}) + "\n" for i in range(1, 8)),
                       encoding="utf-8")
    with OpenAITestServer(lambda kind, body: "よくわかりません") as srv:
        res = runner.invoke(app, ["-q", "eval", "judge", "--data", str(tasks), "--answers", str(answers),
                                  "--max-attempts", "1", "--judge-base-url", srv.base_url,
                                  "--judge-model", "judge", "--set", "api_key_env=null",
                                  "--out", str(tmp_path / "j")])
    assert res.exit_code == 0, res.output

    def refuse(name: str):
        raise ValueError(f"results.json holds {name}")

    results = json.loads((tmp_path / "j" / "results.json").read_text(), parse_constant=refuse)
    assert results["judge"]["score"]["value"] is None and results["judge"]["score"]["n"] == 0
    assert "no items" in results["judge"]["score"]["note"]
    assert results["judge"]["unparsable"]["count"] == 7
