"""Every command's help renders, the real entry point prints errors without a traceback,
and the tiny test model runs. Each check fails on a crash, not only on missing text."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from oshie.cli.app import app


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    if hasattr(group, "commands"):  # a group (typer's own click classes)
        for name, sub in group.commands.items():
            found += _commands(sub, (*path, name))
    return found


def test_every_command_renders_its_help() -> None:
    cli = typer.main.get_command(app)  # built once: a fresh CliRunner per command is slow
    commands = _commands(cli)
    assert {("train", "sft"), ("synth", "respond"), ("eval", "run"), ("data", "check")} <= set(commands)
    for path in commands:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):  # any exception but a clean exit fails the test
            code = cli.main([*path, "--help"], prog_name="oshie", standalone_mode=False)
        assert code in (0, None), path
        assert "Usage: oshie" in buf.getvalue(), path


def test_help_shows_bracketed_defaults_instead_of_eating_them_as_markup() -> None:
    result = CliRunner().invoke(app, ["synth", "respond", "--help"], terminal_width=200)
    text = " ".join(result.output.split())
    assert "[default: OUT without .jsonl + .cache.sqlite]" in text
    assert "\\[" not in text  # a markup escape left in plain-text help prints as it is


def test_entry_point_prints_an_error_without_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    proc = subprocess.run(
        [sys.executable, "-c", "from oshie.cli.app import main; main()", "data", "stats", str(missing)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode in (1, 2), proc.stderr
    output = proc.stdout + proc.stderr
    assert "error:" in output and str(missing.name) in output
    assert "Traceback" not in output


def test_tiny_model_runs(tiny_model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = tok("日本語の文章です。", return_tensors="pt").input_ids
    assert tok.decode(ids[0]) == "日本語の文章です。"
    with torch.no_grad():
        logits = model(ids).logits
    assert logits.shape == (1, ids.shape[1], len(tok))
    assert (tiny_model_dir / "model.safetensors").exists()
