"""Bad input fails before any training step, with errors naming the file and the key."""

from __future__ import annotations

import shutil

import pytest
import yaml

from oshie.errors import ConfigError, DataError, ModelError
from oshie.train.config import load_train_config


def _yaml(tmp_path, data, name="cfg.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return p


def _base(model="m", out="o", data="d.jsonl", **extra):
    return {"model": str(model), "output_dir": str(out), "datasets": [{"path": str(data)}], **extra}


def test_unknown_key_names_key_file_and_line(tmp_path):
    p = _yaml(tmp_path, _base(learning_rat=1e-4))
    with pytest.raises(ConfigError) as err:
        load_train_config(p)
    text = err.value.render()
    assert "unknown key 'learning_rat'" in text and str(p) in text and "line" in text
    assert "learning_rate" in text  # the hint lists the valid keys


def test_unknown_nested_key(tmp_path):
    p = _yaml(tmp_path, _base(method="lora", lora={"rank": 8}))
    with pytest.raises(ConfigError, match=r"field 'lora.rank'.*unknown key 'rank'"):
        load_train_config(p)


def test_conflicting_keys(tmp_path):
    with pytest.raises(ConfigError, match="'lora' options are set but method is 'full'"):
        load_train_config(_base(lora={"r": 8}))
    with pytest.raises(ConfigError, match="'eval_steps' needs 'eval_split'"):
        load_train_config(_base(eval_steps=5))
    with pytest.raises(ConfigError, match="this is a 'dpo' config"):
        load_train_config(_base(kind="dpo"), kind="sft")


def test_overrides_dotted_and_typed(tmp_path):
    p = _yaml(tmp_path, _base(method="lora"))
    cfg = load_train_config(p, ["lora.r=4", "learning_rate=1e-4", "datasets.0.weight=2", "report_to=[tensorboard]"])
    assert cfg.lora.r == 4 and cfg.learning_rate == 1e-4
    assert cfg.datasets[0].weight == 2.0 and cfg.report_to == ["tensorboard"]
    with pytest.raises(ConfigError, match="not an index"):
        load_train_config(p, ["datasets.3.weight=2"])
    with pytest.raises(ConfigError, match="unknown key 'nope'"):
        load_train_config(p, ["nope=1"])


def test_model_dir_without_weights_or_tokenizer(tmp_path, tiny_model_dir, chat_file):
    from oshie.train.sft import train_sft

    no_weights = tmp_path / "no_weights"
    shutil.copytree(tiny_model_dir, no_weights)
    (no_weights / "model.safetensors").unlink()
    cfg_file = _yaml(tmp_path, _base(no_weights, tmp_path / "o1", chat_file))
    with pytest.raises(ModelError, match="no safetensors weights") as err:
        train_sft(load_train_config(cfg_file))
    assert str(cfg_file) in err.value.render() and "field 'model'" in err.value.render()
    no_tok = tmp_path / "no_tok"
    shutil.copytree(tiny_model_dir, no_tok)
    (no_tok / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match="no tokenizer"):
        train_sft(load_train_config(_base(no_tok, tmp_path / "o2", chat_file)))
    with pytest.raises(ModelError, match="directory not found"):
        train_sft(load_train_config(_base(tmp_path / "missing", tmp_path / "o3", chat_file)))
    assert not (tmp_path / "o1" / "manifest.json").exists()


def test_every_example_truncated_away(tmp_path, tiny_model_dir, chat_file):
    from oshie.train.sft import train_sft

    with pytest.raises(DataError, match="every example was truncated away") as err:
        train_sft(load_train_config(_base(tiny_model_dir, tmp_path / "o", chat_file, max_length=8)))
    assert "max_length" in err.value.render() and str(chat_file) in err.value.render()


def test_qlora_on_cpu_is_a_clear_error(tmp_path, tiny_model_dir, chat_file):
    from oshie.train.sft import train_sft

    cfg_file = _yaml(tmp_path, _base(tiny_model_dir, tmp_path / "o", chat_file, method="qlora", device="cpu"))
    with pytest.raises(ConfigError, match="qlora' needs a CUDA GPU") as err:
        train_sft(load_train_config(cfg_file))
    assert err.value.render().startswith(f"{cfg_file}, field 'method'")


def test_dpo_needs_preference_pairs(tmp_path, sft_model_dir, chat_file):
    from oshie.train.dpo import train_dpo

    sft_dir, _ = sft_model_dir
    with pytest.raises(DataError, match="DPO needs preference pairs"):
        train_dpo(load_train_config(_base(sft_dir, tmp_path / "o", chat_file), kind="dpo"))


def test_template_without_markers_stops_training(tmp_path, tiny_model_dir, chat_file):
    import json

    from oshie.train.sft import train_sft

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    (model / "chat_template.jinja").write_text(
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}", "utf-8")
    cfg_file = model / "tokenizer_config.json"
    cfg = json.loads(cfg_file.read_text())
    cfg.pop("chat_template", None)
    cfg_file.write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="cannot be marked"):
        train_sft(load_train_config(_base(model, tmp_path / "o", chat_file)))
    # the explicit override trains with ChatML
    from oshie.train.sft import SFT

    _, stats, _, _ = SFT.build_trainer(
        load_train_config(_base(model, tmp_path / "o2", chat_file, template="chatml", max_steps=1)))
    assert stats["trained_tokens"] > 0


def test_cli_prints_error_without_traceback(tmp_path):
    import subprocess
    import sys

    p = _yaml(tmp_path, _base(epochz=3))
    proc = subprocess.run([sys.executable, "-m", "oshie.cli.app", "train", "sft", str(p)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "unknown key 'epochz'" in proc.stderr and "Traceback" not in proc.stderr
