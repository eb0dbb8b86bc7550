"""No command may overwrite its own input: every writing command refuses (exit 2, naming
both files) before it writes anything, and the input is left byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.cli import run_cli

from oshie.errors import UsageError
from oshie.paths import exclusive_lock, guard_outputs, same_file

EXAMPLES = Path(__file__).parents[1] / "examples"
SERVER = ["--base-url", "http://127.0.0.1:9/v1", "--model", "m"]  # never reached: the guard comes first


def _records(path: Path, n: int = 3) -> Path:
    rows = [{"id": f"r{i}", "instruction": f"質問{i}ですか？", "output": f"回答{i}です。"} for i in range(n)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _digest(path: Path) -> str:
    if path.is_dir():
        return ",".join(f"{p.relative_to(path)}:{_digest(p)}" for p in sorted(path.rglob("*")) if p.is_file())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _model_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}", "utf-8")
    (path / "adapter_config.json").write_text("{}", "utf-8")
    return path


# Each case: (name, build(tmp) -> (args, the input that must survive)).
Case = Callable[[Path], tuple[list[str], Path]]


def _validate(t: Path) -> tuple[list[str], Path]:
    x = _records(t / "x.jsonl")
    return ["data", "validate", str(x), "--quarantine", str(x)], x


def _convert_quarantine(t: Path) -> tuple[list[str], Path]:
    x = _records(t / "x.jsonl")
    return ["data", "convert", str(x), str(t / "out.jsonl"), "--quarantine", str(x)], x


def _convert_same(t: Path) -> tuple[list[str], Path]:
    x = _records(t / "x.jsonl")
    link = t / "link.jsonl"
    os.link(x, link)  # the same file under another name
    return ["data", "convert", str(x), str(link)], x


def _convert_quarantine_is_output(t: Path) -> tuple[list[str], Path]:
    x = _records(t / "x.jsonl")
    out = t / "out.jsonl"
    return ["data", "convert", str(x), str(out), "--quarantine", str(out)], x


def _check(t: Path) -> tuple[list[str], Path]:
    (t / "run").mkdir()
    x = _records(t / "run" / "findings.jsonl")
    return ["data", "check", str(x), "--out", str(t / "run")], x


def _dedup(t: Path) -> tuple[list[str], Path]:
    (t / "run").mkdir()
    x = _records(t / "run" / "kept.jsonl")
    return ["data", "dedup", str(x), "--out", str(t / "run")], x


def _stats_is_read_only(t: Path) -> tuple[list[str], Path]:  # control: stats writes nothing
    x = _records(t / "x.jsonl")
    return ["data", "stats", str(x)], x


def _synth(stage: str) -> Case:
    def build(t: Path) -> tuple[list[str], Path]:
        x = _records(t / "x.jsonl")
        return ["synth", stage, str(x), "--out", str(x), *SERVER], x
    return build


def _synth_rejected(t: Path) -> tuple[list[str], Path]:
    x = _records(t / "x.rejected.jsonl")
    return ["synth", "respond", str(x), "--out", str(t / "x.jsonl"), *SERVER], x


def _magpie_cache(t: Path) -> tuple[list[str], Path]:
    x = _records(t / "x.jsonl")
    return ["synth", "magpie", "--out", str(t / "o.jsonl"), "--cache", str(t / "o.jsonl"), *SERVER], x


def _eval_run(t: Path) -> tuple[list[str], Path]:
    (t / "run").mkdir()
    data = _records(t / "run" / "results.json")
    return ["eval", "run", "--model", str(t), "--task", "jnli", "--data", str(data), "--out", str(t / "run")], data


def _eval_judge(t: Path) -> tuple[list[str], Path]:
    (t / "run").mkdir()
    answers = _records(t / "run" / "answers.jsonl")
    return ["eval", "judge", "--data", str(_records(t / "tasks.jsonl")), "--answers", str(answers),
            "--out", str(t / "run"), "--judge-model", "m", "--judge-base-url", "http://127.0.0.1:9/v1"], answers


def _eval_compare(t: Path) -> tuple[list[str], Path]:
    for name in ("a", "b"):
        (t / name).mkdir()
        _records(t / name / "answers.jsonl")
    return ["eval", "compare", str(t / "a"), str(t / "b"), "--out", str(t / "a"),
            "--judge-model", "m", "--judge-base-url", "http://127.0.0.1:9/v1"], t / "a"


def _train(t: Path) -> tuple[list[str], Path]:
    model = _model_dir(t / "model")
    cfg = t / "sft.yaml"
    cfg.write_text(json.dumps({"model": str(model), "output_dir": str(model),
                               "datasets": [{"path": str(_records(t / "d.jsonl"))}]}), "utf-8")
    return ["train", "sft", str(cfg)], model


def _train_log(t: Path) -> tuple[list[str], Path]:
    (t / "run").mkdir()
    data = _records(t / "run" / "log_history.jsonl")
    cfg = t / "sft.yaml"
    cfg.write_text(json.dumps({"model": str(_model_dir(t / "model")), "output_dir": str(t / "run"),
                               "datasets": [{"path": str(data)}]}), "utf-8")
    return ["train", "sft", str(cfg)], data


def _tokenizer(t: Path) -> tuple[list[str], Path]:
    corpus = t / "corpus.txt"
    corpus.write_text("日本語の文です。\n" * 20, "utf-8")
    return ["tokenizer", "train", str(corpus), "--out", str(corpus), "--vocab-size", "300"], corpus


def _merge(t: Path) -> tuple[list[str], Path]:
    adapter = _model_dir(t / "adapter")
    return ["model", "merge", str(adapter), "--out", str(adapter)], adapter


def _model_init(t: Path) -> tuple[list[str], Path]:
    tok = _model_dir(t / "tok")
    return ["model", "init", "--tokenizer", str(tok), "--out", str(tok)], tok


def _experiment(t: Path) -> tuple[list[str], Path]:
    (t / "run").mkdir()
    cfg = t / "run" / "experiment.yaml"
    shutil.copy(EXAMPLES / "experiment.yaml", cfg)
    return ["experiment", "run", str(cfg), "--out", str(t / "run")], cfg


WRITING_COMMANDS: dict[str, Case] = {
    "data validate --quarantine IN": _validate,
    "data convert --quarantine IN": _convert_quarantine,
    "data convert IN hardlink-of-IN": _convert_same,
    "data convert --quarantine OUT": _convert_quarantine_is_output,
    "data check (findings.jsonl is the input)": _check,
    "data dedup (kept.jsonl is the input)": _dedup,
    **{f"synth {s} IN --out IN": _synth(s)
       for s in ("self-instruct", "evol", "respond", "extend", "screen", "preference")},
    "synth respond (OUT.rejected.jsonl is the input)": _synth_rejected,
    "synth magpie --cache OUT": _magpie_cache,
    "eval run (results.json is the data)": _eval_run,
    "eval judge (answers.jsonl is the input)": _eval_judge,
    "eval compare A B --out A": _eval_compare,
    "train sft output_dir = model": _train,
    "train sft (log_history.jsonl is the data)": _train_log,
    "tokenizer train IN --out IN": _tokenizer,
    "model merge A --out A": _merge,
    "model init --tokenizer T --out T": _model_init,
    "experiment run (OUT/experiment.yaml is the config)": _experiment,
}


@pytest.mark.parametrize("name", list(WRITING_COMMANDS))
def test_every_writing_command_refuses_to_overwrite_its_input(name: str, tmp_path: Path) -> None:
    args, victim = WRITING_COMMANDS[name](tmp_path)
    before = _digest(victim)
    code, _, message = run_cli(args)
    assert code == 2, (name, code, message)
    assert "input" in message or "two different outputs" in message, message
    assert _digest(victim) == before


def test_the_read_only_control_passes(tmp_path: Path) -> None:
    args, _ = _stats_is_read_only(tmp_path)
    assert run_cli(args)[0] == 0


def test_guard_names_both_files_and_ignores_unrelated_ones(tmp_path: Path) -> None:
    a, b = _records(tmp_path / "a.jsonl"), tmp_path / "b.jsonl"
    guard_outputs([b, None], [a, None])  # different files: fine
    with pytest.raises(UsageError) as err:
        guard_outputs([tmp_path / "." / "a.jsonl"], [a], option="--out")
    assert str(a) in err.value.render() and "--out" in err.value.render()
    assert same_file(a, tmp_path / "sub" / ".." / "a.jsonl")
    assert not same_file(a, b)


def test_a_second_holder_of_the_lock_is_refused_and_the_first_keeps_it(tmp_path: Path) -> None:
    lock = tmp_path / "o.lock"
    seen: list[str] = []
    with exclusive_lock(lock, "busy", hint="wait"):
        def other() -> None:
            try:
                with exclusive_lock(lock, "busy", hint="wait"):
                    seen.append("got it")
            except UsageError as exc:
                seen.append(exc.message)
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == ["busy"]
    with exclusive_lock(lock, "busy", hint="wait"):  # released after the block
        pass


def test_a_second_synth_run_on_the_same_output_exits_2(tmp_path: Path) -> None:
    from oshie.synth.output import lock_path

    x = _records(tmp_path / "x.jsonl")
    out = tmp_path / "o.jsonl"
    with exclusive_lock(lock_path(out), "held by the first run", hint="-"):
        code, _, message = run_cli(["synth", "respond", str(x), "--out", str(out), *SERVER])
    assert code == 2 and "another synthesis run is writing" in message
    assert not out.exists()
