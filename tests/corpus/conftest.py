"""Tiny corpora written per test: generated Japanese documents (oshie.corpus.synthetic)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oshie.corpus.synthetic import documents


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """Two sources, 60 documents each, about half with a planted defect."""
    root = tmp_path / "corpus"
    for k, source in enumerate(("web", "news")):
        rows = [{"id": f"{source}-{i}", "text": text, "defect": defect, "url": f"https://{source}.example.jp/{i}"}
                for i, (text, defect) in enumerate(documents(60, seed=k))]
        write_jsonl(root / source / "part-0.jsonl", rows)
    return root
