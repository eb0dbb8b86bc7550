"""`runs.fingerprint`: the one identity of an input file or a model directory."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from oshie.runs import Manifest, fingerprint

MIB = 1 << 20


def _model_dir(root: Path, weights: bytes) -> Path:
    root.mkdir()
    (root / "config.json").write_text('{"hidden_size": 8}', encoding="utf-8")
    (root / "tokenizer.json").write_text('{"vocab": {"あ": 0}}', encoding="utf-8")
    (root / "model.safetensors").write_bytes(weights)
    return root


def test_a_file_is_its_whole_content(tmp_path: Path) -> None:
    f = tmp_path / "data.jsonl"
    f.write_text('{"a": 1}\n', encoding="utf-8")
    assert fingerprint(f) == hashlib.sha256(b'{"a": 1}\n').hexdigest()
    f.write_text('{"a": 2}\n', encoding="utf-8")
    assert fingerprint(f) == hashlib.sha256(b'{"a": 2}\n').hexdigest()


def test_directory_sees_config_tokenizer_and_weights_but_not_mtime_or_copy(tmp_path: Path) -> None:
    weights = os.urandom(4 * MIB)
    model = _model_dir(tmp_path / "m", weights)
    first = fingerprint(model)
    os.utime(model / "model.safetensors", (1, 1))
    assert fingerprint(model) == first  # touching is not retraining
    assert fingerprint(shutil.copytree(model, tmp_path / "copy")) == first
    (model / "tokenizer.json").write_text('{"vocab": {"い": 0}}', encoding="utf-8")
    assert fingerprint(model) != first
    (model / "tokenizer.json").write_text('{"vocab": {"あ": 0}}', encoding="utf-8")
    assert fingerprint(model) == first
    for offset in (0, MIB + 5, 4 * MIB - 1):  # header, a sampled block, the last byte
        changed = bytearray(weights)
        changed[offset] ^= 0xFF
        (model / "model.safetensors").write_bytes(bytes(changed))
        assert fingerprint(model) != first, offset
    (model / "model.safetensors").write_bytes(weights + b"\0")
    assert fingerprint(model) != first  # size alone


def test_small_weight_files_are_hashed_in_full(tmp_path: Path) -> None:
    weights = os.urandom(MIB)
    model = _model_dir(tmp_path / "m", weights)
    first = fingerprint(model)
    changed = bytearray(weights)
    changed[MIB // 2 + 7] ^= 1  # a byte no sample would reach in a large file
    (model / "model.safetensors").write_bytes(bytes(changed))
    assert fingerprint(model) != first


def test_manifest_records_files_by_sha256_and_directories_by_fingerprint(tmp_path: Path) -> None:
    model = _model_dir(tmp_path / "m", b"w" * 10)
    data = tmp_path / "d.jsonl"
    data.write_text("{}\n", encoding="utf-8")
    m = Manifest(tmp_path / "run", "test")
    m.add_input("model", model)
    m.add_input("data", data)
    assert m.data["inputs"]["model"] == {"path": str(model), "fingerprint": fingerprint(model)}
    assert m.data["inputs"]["data"]["sha256"] == fingerprint(data)
