"""`oshie data stats` on a large Japanese JSONL: wall time of the CLI against references.

Run by hand:  .venv/bin/python bench/data_stats.py [--n 100000] [--keep DIR]

It writes N native-format records (varied Japanese instructions and answers, some
multi-turn, some with a system prompt and categories), then times:
  * `oshie data stats FILE` as a user runs it (a subprocess, startup included), with the
    progress bar drawn on a pseudo-terminal so its cost is counted;
  * the floor: a bare loop of `json.loads` + `len()` over the same lines (no validation);
  * the reference: HF `datasets` `load_dataset("json")` + a length pass, if installed.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOPICS = ["富士山", "茶道", "俳句", "新幹線", "少子高齢化", "地震への備え", "光合成", "味噌汁の作り方",
          "敬語の使い分け", "源氏物語", "Pythonのリスト", "確定申告", "梅雨の過ごし方", "七夕", "素数"]
ASKS = ["{t}について説明してください。", "{t}の歴史を簡単に教えてください。",
        "{t}を小学生にもわかるように説明してください。", "{t}の長所と短所を比べてください。"]
SENTENCES = ["これは大切な点です。", "まず基本から確認しましょう。", "具体例を挙げると分かりやすくなります。",
             "日本では古くから親しまれてきました。", "注意点もいくつかあります。", "以上がおおまかな説明です。"]
CATEGORIES = ["知識", "説明", "創作", "要約", "分類", None]


def make_records(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        turns = 1 if rng.random() < 0.8 else rng.randint(2, 3)
        messages = []
        for _ in range(turns):
            messages.append({"role": "user", "content": rng.choice(ASKS).format(t=rng.choice(TOPICS))})
            answer = "".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 40)))
            messages.append({"role": "assistant", "content": answer})
        row: dict = {"id": f"bench-{i}", "messages": messages}
        if rng.random() < 0.2:
            row["system"] = "あなたは丁寧に答える日本語アシスタントです。"
        category = rng.choice(CATEGORIES)
        if category:
            row["metadata"] = {"category": category, "source": "bench"}
        out.append(row)
    return out


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_cli(path: Path) -> tuple[float, float, str]:
    """Run the CLI on a pseudo-terminal (so the progress bar is live): (wall, cpu, output)."""
    oshie = Path(sys.executable).with_name("oshie")
    cpu0, t0 = _child_cpu(), time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execv(str(oshie), [str(oshie), "data", "stats", str(path)])
    chunks = []
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    elapsed, cpu = time.perf_counter() - t0, _child_cpu() - cpu0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(b"".join(chunks).decode(errors="replace"))
    return elapsed, cpu, b"".join(chunks).decode(errors="replace")


def time_floor(path: Path) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    lengths = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            lengths.append(len(row["messages"][-1]["content"]))
    return time.perf_counter() - t0, time.process_time() - c0


def time_datasets(path: Path) -> tuple[float, float] | None:
    code = (
        "import sys, time, tempfile; t0 = time.perf_counter()\n"
        "import datasets\n"
        "datasets.disable_progress_bars()\n"
        "ds = datasets.load_dataset('json', data_files=sys.argv[1], split='train', cache_dir=tempfile.mkdtemp())\n"
        "n = [len(m[-1]['content']) for m in ds['messages']]\n"
        "print(time.perf_counter() - t0)\n"
    )
    cpu0, t0 = _child_cpu(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        print("datasets reference failed:", proc.stderr.strip().splitlines()[-1:], file=sys.stderr)
        return None
    return time.perf_counter() - t0, _child_cpu() - cpu0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, default=None, help="write the data here instead of a temp dir")
    args = ap.parse_args()
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="oshie-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "bench.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for row in make_records(args.n):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    size_mb = path.stat().st_size / 1e6
    print(f"{args.n} records, {size_mb:.1f} MB: {path}")

    wall, cpu, output = time_cli(path)
    floor = time_floor(path)
    ref = time_datasets(path)
    assert f"{args.n}" in output, "stats did not report the record count"
    assert "reading bench.jsonl" in output, "no progress bar was drawn"

    # CPU seconds are the steadier figure on a shared machine; ratios are against oshie's CPU time
    print(f"{'what':48s} {'wall s':>7s} {'cpu s':>7s} {'records/s':>10s} {'cpu ratio':>9s}")
    rows = [("oshie data stats (CLI, validates every record)", (wall, cpu)),
            ("floor: json.loads + len loop (no validation)", floor)]
    if ref is not None:
        rows.append(("datasets load_dataset('json') + lengths", ref))
    for name, (w, c) in rows:
        print(f"{name:48s} {w:7.2f} {c:7.2f} {args.n / c:10.0f} {c / cpu:8.2f}x")
    if args.keep is None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
