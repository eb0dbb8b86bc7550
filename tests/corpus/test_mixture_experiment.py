"""The Ridge-i-style example end to end at tiny size: generated corpus -> clean -> dedup ->
two mixtures -> a tokenizer and a tiny pre-trained base per mixture -> SFT -> JGLUE tasks,
and the experiment's results and report show the two mixtures side by side."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_two_mixtures_as_two_bases(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "SMALL": "1", "DOCS": "150", "OSHIE_QUIET": "1"}
    out = tmp_path / "mixture"
    done = subprocess.run(["bash", str(ROOT / "examples" / "corpus_mixture" / "run.sh"), str(out)], env=env,
                          capture_output=True, text=True, timeout=1700)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = list(csv.DictReader((out / "experiment" / "results.csv").open(encoding="utf-8")))
    bases = {r["model"] for r in rows}
    assert {"news-heavy", "web-heavy"} <= bases, rows[:2]
    report = (out / "experiment" / "report.html").read_text("utf-8")
    assert "news-heavy" in report and "web-heavy" in report
    for name in ("mix-news", "mix-web"):
        assert list((out / name / "kept").glob("*.jsonl"))
