"""Memory and speed of `oshie data check` at scale: N generated records, every check that
needs no LLM, streamed from a JSONL file as the CLI does it.

Each size runs in its own process so its peak RSS is its own. Records are generated from
word pools (varied questions and answers of 100-300 characters, a few per cent exact and
near duplicates, a few planted defects), so the duplicate index and every check have real
work to do.

    python bench/audit_scale.py --sizes 100000 1000000
    python bench/audit_scale.py --one 100000 --workdir /tmp/oshie-scale   # one size (what the driver runs)
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOPICS = ["富士山", "寿司", "桜", "温泉", "新幹線", "茶道", "俳句", "紅葉", "城", "祭り", "着物", "書道", "相撲", "将棋",
          "盆栽", "和紙", "漆器", "抹茶", "味噌", "豆腐", "納豆", "梅干し", "団子", "花火", "雪まつり", "神社", "寺", "庭園"]
ASKS = ["について説明してください。", "の歴史を教えてください。", "の魅力は何ですか。", "を初めての人に紹介してください。",
        "の楽しみ方を三つ挙げてください。", "について子ども向けに話してください。", "で気をつけることは？"]
PIECES = ["古くから人々に親しまれてきました", "季節ごとに違った表情を見せます", "地域によって特色があります",
          "多くの観光客が訪れます", "職人の技が受け継がれています", "家庭でも手軽に楽しめます", "海外でも人気が高まっています",
          "歴史の中で形を変えてきました", "静かな時間を味わえます", "体験教室に参加するのもよいでしょう",
          "地元の人に話を聞くと理解が深まります", "写真に残すのもおすすめです", "道具の手入れが大切です"]
DEFECTS = [
    ("オランダとオランダの違いは？", "どちらも同じ国です。"),
    ("次の文を要約して。ノインプット", "要約する文がありません。"),
    ("感想は？", "とても良かったです。" * 5),
    ("担当者の携帯は？", "担当の携帯は090-3141-5926です。"),
]


def generate(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    recent: list[dict[str, str]] = []
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            roll = rng.random()
            if roll < 0.02 and recent:  # exact copy of a recent record
                row = dict(rng.choice(recent))
            elif roll < 0.03 and recent:  # near copy: one sentence changed
                row = dict(rng.choice(recent))
                row["output"] = row["output"].replace("。", "ね。", 1)
            elif roll < 0.035:
                q, a = rng.choice(DEFECTS)
                row = {"instruction": q, "output": a}
            else:
                topic = rng.choice(TOPICS)
                q = f"{topic}{rng.choice(ASKS)}"
                a = "".join(f"{topic}は{p}。" if k == 0 else f"{p}。" for k, p in
                            enumerate(rng.sample(PIECES, rng.randint(3, 7))))
                row = {"instruction": q, "output": a + f"（{i}番目の説明）"}
            row["id"] = f"r{i}"
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            if i % 97 == 0:
                recent = [*recent, row][-200:]


def run_one(n: int, workdir: Path) -> dict[str, float]:
    from oshie.console import set_quiet
    from oshie.data.check.run import audit_files

    set_quiet(True)
    workdir.mkdir(parents=True, exist_ok=True)  # --workdir may name a directory not made yet
    data = workdir / f"scale_{n}.jsonl"
    if not data.exists():
        generate(data, n)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    result, _ = audit_files([data], workdir / f"run_{n}")
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"records": result.n_records, "seconds": round(seconds, 1), "records_per_s": round(result.n_records / seconds),
            "peak_rss_mb": round(peak / 1024), "rss_before_mb": round(base / 1024), "findings": len(result.findings),
            "duplicate_clusters": len(result.clusters)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.workdir)))
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="oshie-scale-"))
    print(f"{'records':>10} {'seconds':>8} {'rec/s':>7} {'peak RSS MB':>12} {'findings':>9} {'dup clusters':>12}")
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--workdir", str(workdir)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['records']:>10} {r['seconds']:>8} {r['records_per_s']:>7} {r['peak_rss_mb']:>12} "
              f"{r['findings']:>9} {r['duplicate_clusters']:>12}", flush=True)


if __name__ == "__main__":
    main()
