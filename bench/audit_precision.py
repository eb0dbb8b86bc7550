"""Precision and recall of every audit check on a labelled set written for oshie.

bench/data/audit_bench.jsonl: 348 Japanese records in the style of machine-translated sets
and of LLM output, each labelled with the one defect it has (the check that should name
it) or `clean`. The clean ones are mostly look-alikes that are not defects: katakana words
containing NG substrings, answers that restate the question and then answer it, extractive
answers copying the passage, translation tasks with English input, foreign names and
titles, metric beside imperial units, parallel lists, placeholders in PII-like answers.

The set was written after the rules, and split alternately per label into `dev` and
`heldout`: rules were only adjusted after reading `dev` results; `heldout` is reported as
first run. A finding of a check on a record with another label is a false positive of that
check (each record was written to have one defect at most). Findings at `info` level are
statistics, not flags (PII in the material of a masking task), so only warnings and errors
count.

    python bench/audit_precision.py [--split heldout] [--markdown]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from oshie.data.check import check_records
from oshie.data.check.base import SEVERITY_RANK
from oshie.data.io import load_records

DATA = Path(__file__).parent / "data" / "audit_bench.jsonl"


def evaluate(records, result):
    labels = [r.metadata.model_extra["label"] for r in records]
    fired = [set() for _ in records]
    worst = [-1] * len(records)
    for f in result.findings:
        if f.severity == "info":
            continue
        fired[f.index].add(f.check)
        worst[f.index] = max(worst[f.index], SEVERITY_RANK[f.severity])
    tp, fp, fn = Counter(), Counter(), Counter()
    for label, got in zip(labels, fired, strict=True):
        if label != "clean":
            (tp if label in got else fn)[label] += 1
        for c in got - {label}:
            fp[c] += 1
    defects = [i for i, label in enumerate(labels) if label != "clean"]
    found = sum(1 for i in defects if labels[i] in fired[i])
    dropped = [i for i in range(len(records)) if worst[i] >= SEVERITY_RANK["error"]]
    drop_right = sum(1 for i in dropped if labels[i] != "clean")
    return {
        "per_check": {c: (tp[c], fp[c], fn[c]) for c in sorted(set(tp) | set(fp) | set(fn))},
        "recall": found / len(defects) if defects else 1.0, "defects": len(defects), "found": found,
        "drop": (drop_right, len(dropped), sum(1 for i in defects if worst[i] >= SEVERITY_RANK["error"])),
        "clean_flagged": sum(1 for i, label in enumerate(labels) if label == "clean" and fired[i]),
        "clean": labels.count("clean"),
    }


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def report(name: str, ev: dict, markdown: bool) -> None:
    rows = []
    for c, (tp, fp, fn) in ev["per_check"].items():
        p = tp / (tp + fp) if tp + fp else None
        r = tp / (tp + fn) if tp + fn else None
        rows.append((c, tp, fp, fn, fmt(p), fmt(r)))
    right, dropped, defects_dropped = ev["drop"]
    print(f"\n## {name}: {ev['defects']} defect records, {ev['clean']} clean")
    if markdown:
        print("| check | TP | FP | FN | precision | recall |\n|---|---:|---:|---:|---:|---:|")
        for row in rows:
            print("| " + " | ".join(map(str, row)) + " |")
    else:
        print(f"{'check':28} {'TP':>4} {'FP':>4} {'FN':>4} {'prec':>6} {'recall':>6}")
        for c, tp, fp, fn, p, r in rows:
            print(f"{c:28} {tp:>4} {fp:>4} {fn:>4} {p:>6} {r:>6}")
    print(f"overall recall of labelled defects: {ev['found']}/{ev['defects']} = {ev['recall']:.3f}")
    print(f"--drop error: {dropped} records quarantined, {right} of them defects: precision "
          f"{fmt(right / dropped if dropped else None)}; {defects_dropped}/{ev['defects']} defect records dropped")
    print(f"clean records with any finding: {ev['clean_flagged']}/{ev['clean']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=["dev", "heldout", "all"], default=None, help="one split (default: each, then all)")
    ap.add_argument("--markdown", action="store_true", help="tables as Markdown (for the README)")
    args = ap.parse_args()
    records = load_records(str(DATA))
    splits = [args.split] if args.split else ["dev", "heldout", "all"]
    for split in splits:
        part = [r for r in records if split == "all" or r.metadata.model_extra["split"] == split]
        report(split, evaluate(part, check_records(part)), args.markdown)


if __name__ == "__main__":
    main()
