"""Magpie's pre-query prefix comes from the model's own chat template; the local backend
runs end to end on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.synth.magpie import clean_query, pre_query_from_model
from oshie.synth.output import rejected_path

LLAMA3_STYLE = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>"
    "\n\n{{ m['content'] }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)


def _with_template(src: Path, dst: Path, template: str | None) -> Path:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(src))
    tok.chat_template = template
    tok.save_pretrained(str(dst))
    return dst


def test_pre_query_from_chat_templates(tmp_path: Path, tiny_tokenizer_dir: Path) -> None:
    # no template of its own: the ChatML fallback the local backend also uses
    prefix, stops = pre_query_from_model(tiny_tokenizer_dir)
    assert prefix == "<|im_start|>user\n"
    assert stops[0] == "<|im_end|>"
    prefix, _ = pre_query_from_model(tiny_tokenizer_dir, system="あなたは親切です。")
    assert prefix == "<|im_start|>system\nあなたは親切です。<|im_end|>\n<|im_start|>user\n"
    llama = _with_template(tiny_tokenizer_dir, tmp_path / "llama3", LLAMA3_STYLE)
    prefix, stops = pre_query_from_model(llama)
    assert prefix.endswith("<|start_header_id|>user<|end_header_id|>\n\n")
    assert stops[0] == "<|eot_id|>"
    assert clean_query("富士山の高さは？<|eot_id|><|start_header_id|>assistant", stops) == "富士山の高さは？"


def test_magpie_with_the_local_tiny_model(tmp_path: Path, tiny_model_dir: Path) -> None:
    out = tmp_path / "magpie.jsonl"
    args = ["synth", "magpie", "--out", str(out), "--local", str(tiny_model_dir), "--n", "4",
            "--set", "max_tokens=12", "--no-answer"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    # a random model writes no usable Japanese query: every sample is set aside with a reason
    rows = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    rejected = [json.loads(x) for x in rejected_path(out).read_text("utf-8").splitlines()]
    assert len(rows) + len(rejected) == 4 and rejected
    assert all(r["reason"] in {"empty", "broken_text", "length", "start_end", "not_japanese",
                               "blocklist", "duplicate"} for r in rejected)
    manifest = json.loads(out.with_name("magpie.manifest.json").read_text("utf-8"))
    assert manifest["llm"]["backend"] == "local" and manifest["summary"]["llm_calls"] == 4
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0
    manifest = json.loads(out.with_name("magpie.manifest.json").read_text("utf-8"))
    assert manifest["summary"]["llm_calls"] == 0 and manifest["summary"]["cache_hits"] == 4


def test_user_prompt_template_override(tmp_path: Path, seeds_file: Path) -> None:
    from tests.support.openai_server import OpenAITestServer
    from tests.synth.scripted import respond as scripted

    mine = tmp_path / "my_self_instruct.txt"
    mine.write_text("# 作成のルール\n例：\n{{examples}}\n新しい指示を{{num}}個、JSON配列で。",
                    encoding="utf-8")
    out = tmp_path / "si.jsonl"
    with OpenAITestServer(scripted) as srv:
        result = CliRunner().invoke(app, [
            "synth", "self-instruct", str(seeds_file), "--out", str(out), "--target", "3",
            "--template", str(mine), "--per-prompt", "5", "--base-url", srv.base_url,
            "--model", "m"])
        assert result.exit_code == 0, result.output
        sent = srv.calls[0].body["messages"][0]["content"]
    assert sent.startswith("# 作成のルール\n例：\n1. ") and "新しい指示を5個" in sent
    rows = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert rows[0]["metadata"]["prompt_template"] == "my_self_instruct"
