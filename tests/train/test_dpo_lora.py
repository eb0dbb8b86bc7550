"""DPO after a short SFT: rewards separate; LoRA adapters save, reload and merge offline."""

from __future__ import annotations

import json

import pytest

from oshie.train.config import load_train_config


def _dpo_settings(model, data, out, **extra):
    return {
        "kind": "dpo", "model": str(model), "output_dir": str(out), "datasets": [{"path": str(data)}],
        "max_length": 64, "learning_rate": 1e-3, "lr_scheduler": "constant", "beta": 0.1,
        "max_steps": 10, "batch_size": 4, "logging_steps": 1, "save_steps": 100, **extra,
    }


def test_dpo_reward_margin_grows(sft_model_dir, pref_file, tmp_path):
    from oshie.train.dpo import train_dpo

    sft_dir, _ = sft_model_dir
    result = train_dpo(load_train_config(_dpo_settings(sft_dir, pref_file, tmp_path / "dpo"), kind="dpo"))
    steps = [e for e in result.log_history if "rewards/margins" in e]
    assert len(steps) == 10
    margins = [e["rewards/margins"] for e in steps]
    accuracy = [e["rewards/accuracies"] for e in steps]
    # step 1 is scored before any update: the policy equals the reference
    assert margins[0] == pytest.approx(0.0, abs=1e-6)
    assert sum(margins[-3:]) / 3 > 0.5
    assert sum(accuracy[-3:]) / 3 > accuracy[0]
    assert result.final_loss < result.initial_loss
    manifest = json.loads((tmp_path / "dpo" / "manifest.json").read_text("utf-8"))
    assert manifest["stage"] == "train.dpo" and manifest["config"]["beta"] == 0.1
    report = (tmp_path / "dpo" / "report.html").read_text("utf-8")
    assert 'alt="DPO rewards"' in report and 'alt="loss"' in report and "data:image/png;base64," in report


def test_dpo_lora_uses_adapter_disabled_reference(sft_model_dir, pref_file, tmp_path):
    from oshie.train.dpo import train_dpo

    sft_dir, _ = sft_model_dir
    result = train_dpo(load_train_config(_dpo_settings(
        sft_dir, pref_file, tmp_path / "dpo_lora", method="lora", max_steps=6, learning_rate=5e-3,
        lora={"r": 8, "alpha": 16, "dropout": 0.0}), kind="dpo"))
    assert result.adapter and (tmp_path / "dpo_lora" / "adapter_config.json").is_file()
    margins = [e["rewards/margins"] for e in result.log_history if "rewards/margins" in e]
    assert margins[0] == pytest.approx(0.0, abs=1e-6) and margins[-1] > 0


def test_lora_save_reload_merge(sft_model_dir, chat_file, tmp_path, sft_cfg):
    """merged(base + adapter) gives the same logits as base with the adapter loaded."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from oshie.train.merge import merge_adapter
    from oshie.train.sft import train_sft

    base_dir, _ = sft_model_dir
    out = tmp_path / "lora"
    result = train_sft(load_train_config(sft_cfg(
        base_dir, chat_file, out, method="lora", max_steps=4, lora={"r": 8, "alpha": 16, "dropout": 0.0}),
        kind="sft"))
    assert result.adapter
    assert (out / "adapter_model.safetensors").is_file() and not (out / "model.safetensors").exists()
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(base_dir)

    merged_dir = merge_adapter(out, tmp_path / "merged")
    assert (merged_dir / "model.safetensors").is_file()

    tok = AutoTokenizer.from_pretrained(merged_dir)
    ids = tok("日本の首都はどこですか？東京です。", return_tensors="pt").input_ids
    with torch.no_grad():
        base = AutoModelForCausalLM.from_pretrained(base_dir).eval()
        base_logits = base(ids).logits
        with_adapter = PeftModel.from_pretrained(base, str(out)).eval()(ids).logits
        merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()(ids).logits
    assert not torch.allclose(base_logits, with_adapter, atol=1e-4)  # the adapter learned something
    torch.testing.assert_close(merged, with_adapter, atol=1e-4, rtol=1e-4)


def test_merge_cli_needs_adapter(tmp_path, tiny_model_dir):
    from typer.testing import CliRunner

    from oshie.cli.app import app

    res = CliRunner().invoke(app, ["model", "merge", str(tiny_model_dir), "--out", str(tmp_path / "m")])
    assert res.exit_code != 0
    assert "adapter_config.json" in str(res.exception) or "adapter_config.json" in res.output
