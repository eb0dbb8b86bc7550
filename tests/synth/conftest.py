from __future__ import annotations

import json
from pathlib import Path

import pytest

SEEDS = [
    "日本の首都はどこですか。",
    "次の文を敬語に直してください：明日行く。",
    "猫と犬の違いを説明してください。",
    "健康的な朝ごはんの例を挙げてください。",
    "俳句の作り方を教えてください。",
    "消費税の仕組みを簡単に説明してください。",
    "雨の日の楽しみ方を三つ挙げてください。",
    "自転車のパンクを直す手順を説明してください。",
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def seeds_file(tmp_path: Path) -> Path:
    rows = [{"id": f"s{i}", "messages": [{"role": "user", "content": c},
                                         {"role": "assistant", "content": "はい、お答えします。"}]}
            for i, c in enumerate(SEEDS)]
    return write_jsonl(tmp_path / "seeds.jsonl", rows)
