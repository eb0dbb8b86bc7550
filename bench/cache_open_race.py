"""Many processes open one new LLM cache file at the same instant, round after round, while
other processes keep every CPU busy (the case that used to fail with "database is locked").

    python bench/cache_open_race.py --rounds 20 --processes 8 --load 2

Prints the failures per round and the total; exits 1 if any process failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OPEN = """
import sys, time
from oshie.llm.cache import connect
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
conn = connect(sys.argv[1])
conn.execute("INSERT OR IGNORE INTO meta VALUES (?, 'x')", (sys.argv[3],))
conn.close()
"""
BURN = "import time\nend = time.time() + float(__import__('sys').argv[1])\nwhile time.time() < end: pass\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--processes", type=int, default=8)
    ap.add_argument("--load", type=int, default=2, help="busy-looping processes beside them")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cache_race_"))
    burners = [subprocess.Popen([sys.executable, "-c", BURN, str(args.rounds * 10)])
               for _ in range(args.load)]
    failures = 0
    t0 = time.monotonic()
    try:
        for round_ in range(args.rounds):
            db = work / f"round{round_}.sqlite"
            start = time.time() + 2.5  # every interpreter has imported oshie by then
            procs = [subprocess.Popen([sys.executable, "-c", OPEN, str(db), str(start), f"p{i}"],
                                      stderr=subprocess.PIPE, text=True)
                     for i in range(args.processes)]
            errors = [p.communicate(timeout=120)[1] for p in procs]
            failed = [e.strip().splitlines()[-1] for p, e in zip(procs, errors, strict=True)
                      if p.returncode != 0]
            failures += len(failed)
            print(f"round {round_ + 1:2d}: {args.processes - len(failed)}/{args.processes} opened"
                  + (f"; {failed[0]}" if failed else ""))
    finally:
        for b in burners:
            b.kill()
    print(f"{args.rounds} rounds x {args.processes} processes under {args.load} busy processes: "
          f"{failures} failures in {time.monotonic() - t0:.0f}s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
