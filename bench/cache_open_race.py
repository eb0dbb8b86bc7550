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

# each process imports oshie, says it is ready, then waits for the common start time
OPEN = """
import sys, time
from oshie.llm.cache import connect
print("ready", flush=True)
time.sleep(max(0.0, float(sys.stdin.readline()) - time.time()))
conn = connect(sys.argv[1])
conn.execute("INSERT OR IGNORE INTO meta VALUES (?, 'x')", (sys.argv[2],))
conn.close()
"""


def open_at_once(db: Path, processes: int) -> list[str]:
    """Start `processes` interpreters that open the new file `db` at one instant; returns
    the last stderr line of each one that failed."""
    procs = [subprocess.Popen([sys.executable, "-c", OPEN, str(db), f"p{i}"], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(processes)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    start = f"{time.time() + 0.2}\n"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(start)
        p.stdin.flush()
    errors = [p.communicate(timeout=120)[1] for p in procs]
    return [(e.strip().splitlines() or ["?"])[-1] for p, e in zip(procs, errors, strict=True)
            if p.returncode != 0]
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
            failed = open_at_once(work / f"round{round_}.sqlite", args.processes)
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
