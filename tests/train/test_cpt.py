"""Continued pre-training with linear RoPE scaling: the saved config carries the scaling
and the model runs at twice its original context."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from oshie.errors import ConfigError, DataError
from oshie.train.config import load_train_config


def _corpus():
    return str(resources.files("oshie").joinpath("resources/corpus/ja_sample.txt"))


def _cpt_settings(model, out, **extra):
    return {
        "kind": "cpt", "model": str(model), "output_dir": str(out),
        "datasets": [{"path": _corpus()}], "max_length": 64, "learning_rate": 3e-3,
        "lr_scheduler": "constant", "max_steps": 8, "batch_size": 4, "save_steps": 100, **extra,
    }


def test_cpt_linear_rope_scaling(tiny_model_dir, tmp_path):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from oshie.train.cpt import train_cpt

    original = AutoConfig.from_pretrained(tiny_model_dir).max_position_embeddings
    out = tmp_path / "cpt"
    result = train_cpt(load_train_config(_cpt_settings(
        tiny_model_dir, out, rope_scaling={"type": "linear", "factor": 2}), kind="cpt"))
    assert result.final_loss < result.initial_loss
    assert result.data["tokens"] == result.data["examples"] * 64

    saved = json.loads((out / "config.json").read_text())
    assert saved["rope_parameters"]["rope_type"] == "linear"
    assert saved["rope_parameters"]["factor"] == 2.0
    assert saved["max_position_embeddings"] == 2 * original

    model = AutoModelForCausalLM.from_pretrained(out).eval()
    assert model.model.rotary_emb.rope_type == "linear"
    long_ids = torch.randint(10, 500, (1, 2 * original))
    with torch.no_grad():
        logits = model(long_ids).logits
    assert logits.shape == (1, 2 * original, model.config.vocab_size)
    assert torch.isfinite(logits).all()
    # position interpolation: the scaled rotary frequencies are half the original ones
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    torch.testing.assert_close(model.model.rotary_emb.inv_freq, base.model.rotary_emb.inv_freq / 2)


def test_cpt_yarn_records_original_length(tiny_model_dir):
    from oshie.train.config import RopeScaling
    from oshie.train.cpt import scaled_model_config

    cfg = scaled_model_config(tiny_model_dir, RopeScaling(type="yarn", factor=4))
    assert cfg.rope_parameters["rope_type"] == "yarn"
    assert cfg.rope_parameters["original_max_position_embeddings"] == 512
    assert cfg.max_position_embeddings == 2048


def test_cpt_bad_inputs(tiny_model_dir, tmp_path):
    from oshie.train.cpt import train_cpt

    with pytest.raises(ConfigError, match="unknown RoPE scaling type 'lineer'"):
        train_cpt(load_train_config(_cpt_settings(tiny_model_dir, tmp_path / "a",
                                            rope_scaling={"type": "lineer"}), kind="cpt"))
    with pytest.raises(ConfigError, match="exceeds the model's context"):
        train_cpt(load_train_config(_cpt_settings(tiny_model_dir, tmp_path / "b", max_length=1024), kind="cpt"))
    short = tmp_path / "short.txt"
    short.write_text("短い。\n", "utf-8")
    with pytest.raises(DataError, match="shorter than one block"):
        train_cpt(load_train_config(_cpt_settings(tiny_model_dir, tmp_path / "c",
                                            datasets=[{"path": str(short)}]), kind="cpt"))


def test_cpt_jsonl_text_field(tmp_path):
    from oshie.errors import DataError as DE
    from oshie.train.corpus import read_texts

    p = tmp_path / "c.jsonl"
    p.write_text('{"body": "一つ目の文書。"}\n{"body": "二つ目。"}\n', "utf-8")
    assert read_texts([p], text_field="body") == ["一つ目の文書。", "二つ目。"]
    with pytest.raises(DE, match="field 'text'"):
        read_texts([p])


def test_cpt_loads_through_the_shared_loader(tiny_model_dir, tmp_path):
    """CPT follows the loader's rules like SFT and DPO: a bf16 checkpoint trains in fp32 on
    CPU, and `method: qlora` is refused on a machine without a GPU before anything loads."""
    import shutil

    import torch
    from transformers import AutoModelForCausalLM

    from oshie.train.cpt import CPT

    bf16 = tmp_path / "bf16"
    shutil.copytree(tiny_model_dir, bf16)
    AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.bfloat16).save_pretrained(bf16)
    built = CPT.build_trainer(load_train_config(_cpt_settings(
        bf16, tmp_path / "o", rope_scaling={"type": "linear", "factor": 2}), kind="cpt"))
    assert next(built.trainer.model.parameters()).dtype == torch.float32
    assert built.trainer.model.config.rope_parameters["rope_type"] == "linear"
    with pytest.raises(ConfigError, match="qlora"):
        CPT.build_trainer(load_train_config(_cpt_settings(
            bf16, tmp_path / "q", method="qlora", device="cpu"), kind="cpt"))
    assert not (tmp_path / "q").exists()
