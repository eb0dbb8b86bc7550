"""Tokenizer training (three types), fertility, model init, template rendering and masks."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.errors import ModelError

TEXT = "日本語の文章です。𠮷野家で牛丼 abc\n二行目"


def _corpus() -> Path:
    return Path(str(resources.files("oshie").joinpath("resources/corpus/ja_sample.txt")))


@pytest.mark.parametrize("kind", ["bpe", "sp-unigram", "sp-bpe"])
def test_tokenizer_types_roundtrip_japanese(kind, tmp_path):
    from oshie.train.corpus import read_texts
    from oshie.train.tokenizer import IM_END, IM_START, PAD, load_tokenizer, train_tokenizer

    out = train_tokenizer(read_texts([_corpus()]), 1600, tmp_path / kind, kind)
    tok = load_tokenizer(out)
    ids = tok(TEXT, add_special_tokens=False).input_ids
    assert tok.decode(ids) == TEXT  # byte-level or byte fallback: nothing is lost, even 𠮷
    assert tok.unk_token_id not in ids
    for special in (IM_START, IM_END, PAD):
        assert len(tok(special, add_special_tokens=False).input_ids) == 1
    assert tok.pad_token == PAD and tok.eos_token == IM_END
    assert "generation" in tok.chat_template


def test_tokenizer_cli_fertility_and_compare(tmp_path, tiny_tokenizer_dir):
    res = CliRunner().invoke(app, [
        "tokenizer", "train", str(_corpus()), "--vocab-size", "800", "--out", str(tmp_path / "t"),
        "--compare", str(tiny_tokenizer_dir), "--json",
    ])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout[res.stdout.index("["):])
    assert len(rows) == 2 and str(tiny_tokenizer_dir) in rows[1]["name"]
    for r in rows:
        assert r["tokens_per_1k_chars"] == pytest.approx(1000 / r["chars_per_token"], rel=1e-2)
        assert r["characters"] == rows[0]["characters"] > 0  # same held-out sample
    # a larger vocabulary packs more characters into each token
    assert rows[0]["vocab_size"] > rows[1]["vocab_size"]
    assert rows[0]["chars_per_token"] > rows[1]["chars_per_token"]
    assert (tmp_path / "t" / "fertility.json").is_file()


def test_model_init_cli_preset_and_fields(tmp_path, tiny_tokenizer_dir):
    from transformers import AutoConfig

    res = CliRunner().invoke(app, [
        "model", "init", "--tokenizer", str(tiny_tokenizer_dir), "--out", str(tmp_path / "m"),
        "--preset", "tiny", "--set", "hidden_size=64", "--set", "num_hidden_layers=2",
    ])
    assert res.exit_code == 0, res.output
    cfg = AutoConfig.from_pretrained(tmp_path / "m")
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.vocab_size) == (64, 2, 600)
    assert (tmp_path / "m" / "model.safetensors").is_file()
    bad = CliRunner().invoke(app, ["model", "init", "--tokenizer", str(tiny_tokenizer_dir),
                                   "--out", str(tmp_path / "x"), "--set", "hiden_size=64"])
    assert bad.exit_code != 0 and "hiden_size" in str(bad.exception)


def test_template_show_marks_assistant_tokens(tiny_model_dir):
    res = CliRunner().invoke(app, ["template", "show", str(tiny_model_dir), "--width", "200"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert "富士山の高さは3,776メートルです。" in res.stdout
    caret_lines = [line for line in lines if line.strip() and set(line.strip()) <= {"^", " "}]
    assert len(caret_lines) == 2  # the two assistant answers, nothing else
    assert "trained" in lines[-1] and "masked" in lines[-1]


def test_template_marks_match_content(tiny_model_dir):
    from transformers import AutoTokenizer

    from oshie.train.templates import SAMPLE_CONVERSATION, mark_trained_tokens, resolve_template

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    marked = mark_trained_tokens(tok, SAMPLE_CONVERSATION, resolve_template(tok, "auto"))
    trained_text = "".join(p for p, t in zip(marked.tokens, marked.trained, strict=True) if t)
    answers = [m["content"] for m in SAMPLE_CONVERSATION if m["role"] == "assistant"]
    assert trained_text == "".join(a + "<|im_end|>" for a in answers)


def test_template_without_markers_is_refused(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    from oshie.train.templates import chatml_template, resolve_template

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.chat_template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    with pytest.raises(ModelError, match="without \\{% generation %\\} markers"):
        resolve_template(tok, "auto")
    assert resolve_template(tok, "chatml") == chatml_template()  # the explicit override
    plain = tmp_path / "plain.jinja"
    plain.write_text(tok.chat_template, "utf-8")
    with pytest.raises(ModelError, match="no \\{% generation %\\} block"):
        resolve_template(tok, str(plain))
