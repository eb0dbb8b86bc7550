from pathlib import Path

from typer.testing import CliRunner

from oshie.cli.app import app


def test_help_lists_groups():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "oshie" in result.output


def test_tiny_model_runs(tiny_model_dir: Path):
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
