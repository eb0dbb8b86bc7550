"""Training fixtures: small Japanese chat and preference files, an SFT-warmed tiny model."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

QA = [
    ("日本の首都はどこですか？", "東京です。", "大阪だと思います。"),
    ("富士山の高さは？", "3776メートルです。", "よくわかりません。"),
    ("日本で一番長い川は？", "信濃川です。", "知らないです。"),
    ("春に咲く花は？", "桜が有名です。", "雪が降ります。"),
    ("朝ご飯は何を食べますか？", "ご飯と味噌汁です。", "何も食べません。"),
    ("好きな季節は？", "秋が好きです。", "特にないです。"),
    ("今日の天気は？", "晴れています。", "さあ、どうでしょう。"),
    ("図書館は何時までですか？", "夜八時までです。", "いつでも閉まっています。"),
]


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """One intra-op thread: on a shared 2-core machine, two spinning threads per process
    make tiny-model steps ~10x slower. Restored afterwards for other test areas."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    with one_thread():
        yield


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def chat_rows(n: int = 24) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        q1, a1, _ = QA[i % len(QA)]
        q2, a2, _ = QA[(i + 3) % len(QA)]
        rows.append({
            "id": f"chat-{i}",
            "system": "丁寧に答えてください。" if i % 2 == 0 else None,
            "messages": [
                {"role": "user", "content": q1},
                {"role": "assistant", "content": a1},
                {"role": "user", "content": q2},
                {"role": "assistant", "content": a2},
            ],
        })
    return [{k: v for k, v in r.items() if v is not None} for r in rows]


def pref_rows(n: int = 16) -> list[dict[str, Any]]:
    return [
        {"id": f"pref-{i}", "prompt": QA[i % len(QA)][0], "chosen": QA[i % len(QA)][1],
         "rejected": QA[i % len(QA)][2]}
        for i in range(n)
    ]


@pytest.fixture(scope="session")
def chat_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("chat") / "chat.jsonl", chat_rows())


@pytest.fixture(scope="session")
def pref_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("pref") / "pref.jsonl", pref_rows())


def sft_settings(model: Path, data: Path, out: Path, **extra: Any) -> dict[str, Any]:
    """A fast SFT config for the tiny model (a random model needs a high learning rate)."""
    return {
        "model": str(model), "output_dir": str(out), "datasets": [{"path": str(data)}],
        "max_length": 96, "learning_rate": 3e-3, "lr_scheduler": "constant", "max_steps": 12,
        "batch_size": 4, "save_steps": 6, "logging_steps": 1, **extra,
    }


@pytest.fixture(scope="session")
def sft_cfg():
    """The `sft_settings` helper, as a fixture (test modules do not import each other)."""
    return sft_settings


@pytest.fixture(scope="session")
def sft_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, chat_file: Path):
    """The tiny model after 12 SFT steps (checkpoints at 6 and 12), and its result."""
    from oshie.train.config import load_train_config
    from oshie.train.sft import train_sft

    out = tmp_path_factory.mktemp("sft_run")
    with one_thread():
        result = train_sft(load_train_config(sft_settings(tiny_model_dir, chat_file, out), kind="sft"))
    assert (out / "checkpoint-6").is_dir()
    return out, result
