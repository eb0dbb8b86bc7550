"""Shared fixtures: everything is built locally (nothing can be downloaded)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest


def sample_corpus_lines() -> list[str]:
    text = resources.files("oshie").joinpath("resources/corpus/ja_sample.txt").read_text("utf-8")
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A byte-level BPE tokenizer trained on the shipped Japanese sample corpus."""
    from oshie.train.tokenizer import train_bpe_tokenizer

    out = tmp_path_factory.mktemp("tok")
    return train_bpe_tokenizer(sample_corpus_lines(), vocab_size=600, out_dir=out)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    """A random tiny Llama (4 layers, hidden 128) saved with safetensors, tokenizer beside it."""
    from oshie.train.tiny import init_model

    out = tmp_path_factory.mktemp("tiny_model")
    return init_model(tiny_tokenizer_dir, out, preset="tiny", seed=0)
