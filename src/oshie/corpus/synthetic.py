"""Generated Japanese documents with planted defects, for benches, tests and demos (offline).

Clean documents are paragraphs of sentences drawn from the shipped sample corpus
(`resources/corpus/ja_sample.txt`); "dirty" ones carry one defect each: too short, katakana
or Latin heavy, repeated lines or phrases, ellipsis-ended teasers, NG words, navigation
boilerplate, one endless sentence. Everything follows from the seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path

DEFECTS = ("short", "katakana", "latin", "repeat_lines", "repeat_phrase", "ellipsis", "ng_words",
           "long_sentence", "symbols")


@lru_cache(maxsize=1)
def sample_sentences() -> tuple[str, ...]:
    text = resources.files("oshie").joinpath("resources/corpus/ja_sample.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


_KATAKANA = ("データ", "システム", "サービス", "コンテンツ", "プラットフォーム", "ソリューション", "マーケティング",
             "インターネット", "アプリケーション", "セキュリティ", "ネットワーク", "クラウド")
_LATIN = ("the quick brown fox jumps over the lazy dog", "click here for more information",
          "free shipping on all orders", "lorem ipsum dolor sit amet")
_NAV = ("ホーム | 会社概要 | お問い合わせ", "Copyright © 2024 Example Inc. All Rights Reserved.",
        "プライバシーポリシー", "ページの先頭へ")


def clean_document(rnd: random.Random, min_chars: int = 1000) -> str:
    sents = sample_sentences()
    paragraphs, size = [], 0
    picked = iter(rnd.sample(sents, 80))
    while size < min_chars:
        para = "".join(next(picked) for _ in range(rnd.randint(2, 4)))
        paragraphs.append(para)
        size += len(para)
    return "\n\n".join(paragraphs)


def dirty_document(rnd: random.Random, defect: str) -> str:
    base = clean_document(rnd)
    if defect == "short":
        return rnd.choice(sample_sentences())
    if defect == "katakana":
        return base[:120] + "".join(rnd.choice(_KATAKANA) for _ in range(150))
    if defect == "latin":
        return base[:150] + " ".join(rnd.choice(_LATIN) for _ in range(30))
    if defect == "repeat_lines":
        line = rnd.choice(sample_sentences())
        return base[:200] + "\n" + "\n\n".join([line] * 12)
    if defect == "repeat_phrase":
        return base[:150] + "今すぐ登録して特典をゲット！" * 30
    if defect == "ellipsis":
        return "\n".join(s[: max(8, len(s) // 2)] + "…" for s in rnd.sample(sample_sentences(), 40))
    if defect == "ng_words":
        return base[:300] + "このクソ野郎、くそったれ。" * 8 + base[300:]
    if defect == "long_sentence":
        return base.replace("。", "、").replace("\n", "")[:600] + "。"
    if defect == "symbols":
        return base[:100] + "★☆■□◆◇" * 60
    raise ValueError(f"unknown defect {defect!r}")


def with_boilerplate(rnd: random.Random, text: str) -> str:
    return rnd.choice(_NAV) + "\n" + text + "\n" + rnd.choice(_NAV)


def documents(n: int, seed: int = 0, dirty_share: float = 0.5) -> Iterator[tuple[str, str | None]]:
    """(text, defect or None) for n documents."""
    rnd = random.Random(seed)
    for _ in range(n):
        if rnd.random() < dirty_share:
            defect = rnd.choice(DEFECTS)
            yield dirty_document(rnd, defect), defect
        else:
            text = clean_document(rnd)
            yield (with_boilerplate(rnd, text) if rnd.random() < 0.2 else text), None


def write_sources(out_dir: Path, n: int, sources: list[str], seed: int = 0) -> dict[str, Path]:
    """`n` generated documents per source as `<out_dir>/<source>/part-0.jsonl` (the directory
    names the source when the shards are read); source k uses seed `seed + k`."""
    from oshie.data.files import write_rows

    written: dict[str, Path] = {}
    for k, source in enumerate(sources):
        rows = [{"id": f"{source}-{i}", "text": text, "defect": defect, "url": f"https://{source}.example.jp/{i % 50}/{i}"}
                for i, (text, defect) in enumerate(documents(n, seed=seed + k))]
        path = out_dir / source / "part-0.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_rows(path, rows, "jsonl")
        written[source] = path
    return written
