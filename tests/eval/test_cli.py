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
