"""One set of LLM options, one precedence in every command group:
explicit flag > --set > config file > default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.eval.test_judge import grade_responder, write_tasks
from tests.llm.helpers import echo
from tests.support.openai_server import OpenAITestServer
from typer.testing import CliRunner

from oshie.cli.app import app

runner = CliRunner()


@pytest.fixture
def seeds_file(tmp_path: Path) -> Path:
    path = tmp_path / "instructions.txt"
    path.write_text("日本の首都はどこですか。\n富士山の高さを教えてください。\n", "utf-8")
    return path

# (config file, --set, flag) -> the timeout that must win
LEVELS = [
    ((10, None, None), 10.0),
    ((10, 20, None), 20.0),
    ((10, 20, 30), 30.0),
    ((None, None, None), 60.0),  # the LLMConfig default
]


def _levels(prefix: str, file_value, set_value, flag_value) -> list[str]:
    args = []
    if set_value is not None:
        args += ["--set", f"timeout={set_value}"]
    if flag_value is not None:
        args += [f"--{prefix}timeout", str(flag_value)]
    return args


def _invoke(args: list[str]) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, (res.output, res.exception)


@pytest.mark.parametrize(("levels", "expected"), LEVELS)
def test_llm_group(tmp_path, levels, expected):
    reqs = tmp_path / "r.jsonl"
    reqs.write_text('{"id": "a", "prompt": "一"}\n', "utf-8")
    cfg = tmp_path / "llm.yaml"
    cfg.write_text("model: m\napi_key_env: null\n"
                   + (f"timeout: {levels[0]}\n" if levels[0] else ""), "utf-8")
    with OpenAITestServer(echo) as srv:
        _invoke(["llm", "generate", str(reqs), "--out", str(tmp_path / "run"), "-c", str(cfg),
                 "--base-url", srv.base_url, *_levels("", *levels)])
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text("utf-8"))
    assert manifest["config"]["timeout"] == expected


@pytest.mark.parametrize(("levels", "expected"), LEVELS)
def test_synth_group(tmp_path, seeds_file, levels, expected):
    cfg = tmp_path / "respond.yaml"
    cfg.write_text("temperature: 0.1\nllm:\n  api_key_env: null\n"
                   + (f"  timeout: {levels[0]}\n" if levels[0] else ""), "utf-8")
    out = tmp_path / "r.jsonl"
    stage = ["--set", "temperature=0.2", "--temperature", "0.3"]  # the stage settings likewise
    with OpenAITestServer(echo) as srv:
        _invoke(["synth", "respond", str(seeds_file), "--out", str(out), "--config", str(cfg),
                 "--base-url", srv.base_url, "--model", "m", *stage, *_levels("", *levels)])
    manifest = json.loads(out.with_name("r.manifest.json").read_text("utf-8"))
    assert manifest["config"]["llm"]["timeout"] == expected
    assert manifest["config"]["stage"]["temperature"] == 0.3


@pytest.mark.parametrize(("levels", "expected"), LEVELS)
def test_eval_judge_group(tmp_path, levels, expected):
    tasks = write_tasks(tmp_path / "tasks.csv")
    answers = tmp_path / "sys.jsonl"
    answers.write_text(json.dumps({"id": "1", "answer": "東京"}, ensure_ascii=False) + "\n", "utf-8")
    cfg = tmp_path / "judge.yaml"
    cfg.write_text("model: judge\napi_key_env: null\n"
                   + (f"timeout: {levels[0]}\n" if levels[0] else ""), "utf-8")
    with OpenAITestServer(grade_responder) as srv:
        _invoke(["eval", "judge", "--data", str(tasks), "--answers", str(answers), "--limit", "1",
                 "--judge-config", str(cfg), "--judge-base-url", srv.base_url,
                 "--out", str(tmp_path / "j"), *_levels("judge-", *levels)])
    manifest = json.loads((tmp_path / "j" / "manifest.json").read_text("utf-8"))
    assert manifest["config"]["judge"]["timeout"] == expected


def test_experiment_llm_block_yaml_and_set(tmp_path):
    """The experiment has no LLM flags: its `eval.judge.llm` block (the same LLMConfig keys)
    is overridden by --set, which beats the file; unknown keys are named."""
    from oshie.errors import ConfigError
    from oshie.experiment.config import load_experiment
    from oshie.llm.config import LLMConfig

    example = Path(__file__).resolve().parents[2] / "examples" / "experiment.yaml"
    if not example.is_file():
        pytest.skip("no example experiment to start from")
    import yaml

    data = yaml.safe_load(example.read_text("utf-8"))
    data.setdefault("eval", {})["judge"] = {
        "tasks": "tasks.csv", "llm": {"model": "judge", "timeout": 10, "device": "cpu"}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    (tmp_path / "tasks.csv").write_text("input,output,eval_aspect\nq,a,x\n", "utf-8")
    base = load_experiment(path).eval.judge.llm
    assert LLMConfig.model_validate(base).timeout == 10
    set_ = load_experiment(path, {"eval.judge.llm.timeout": 20}).eval.judge.llm
    assert LLMConfig.model_validate(set_).timeout == 20
    with pytest.raises(ConfigError, match="timout"):
        load_experiment(path, {"eval.judge.llm.timout": 20})


def test_synth_respond_local_with_set_device(tmp_path, seeds_file, tiny_model_dir):
    out = tmp_path / "local.jsonl"
    _invoke(["synth", "respond", str(seeds_file), "--out", str(out), "--local",
             str(tiny_model_dir), "--set", "device=cpu", "--set", "max_tokens=4",
             "--set", "batch_size=4", "--allow-restricted-license"])
    kept = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    dropped = [json.loads(line) for line in
               out.with_name("local.rejected.jsonl").read_text("utf-8").splitlines()]
    # the random tiny model answered both (its bytes may be kept or dropped as broken text)
    assert len(kept) + len(dropped) == 2
    assert all(r["messages"][-1]["role"] == "assistant" for r in kept)
    assert all(r["answer"] for r in dropped)
    llm = json.loads(out.with_name("local.manifest.json").read_text("utf-8"))["config"]["llm"]
    assert (llm["backend"], llm["device"], llm["batch_size"]) == ("local", "cpu", 4)
    assert llm["model"] == str(tiny_model_dir)


def test_flags_are_spelled_once():
    """`-t` is the task in eval and nothing in llm; a local model is --local DIR everywhere."""
    helps = {cmd: runner.invoke(app, [*cmd, "--help"], env={"COLUMNS": "200"}).output
             for cmd in (("llm", "chat"), ("synth", "respond"), ("eval", "judge"))}
    assert " -t " not in helps[("llm", "chat")]
    assert "--local" in helps[("llm", "chat")] and "--local" in helps[("synth", "respond")]
    assert "--judge-local" in helps[("eval", "judge")]
