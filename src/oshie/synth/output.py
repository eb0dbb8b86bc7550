"""Append-only JSONL outputs that survive a kill and are reconciled on restart.

Each finished record is appended and flushed at once, so a killed run keeps everything
it wrote. On restart the file is read back: a torn last line (the kill landed mid-write)
is cut off, and the ids already present are remembered so the rerun (whose LLM calls all
come from the cache) appends only what is missing. `close` rewrites the file in the
order this run produced, dropping records this run did not produce (left over from a run
with other settings), so a resumed output equals an uninterrupted one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from oshie import jsonl
from oshie.console import warn


def rejected_path(out: str | Path) -> Path:
    """`out.jsonl` -> `out.rejected.jsonl`: where dropped candidates go, with their reason."""
    p = Path(out)
    return p.with_name(p.name.removesuffix(".jsonl") + ".rejected.jsonl")


def manifest_path(out: str | Path) -> Path:
    p = Path(out)
    return p.with_name(p.name.removesuffix(".jsonl") + ".manifest.json")


def lock_path(out: str | Path) -> Path:
    """`out.jsonl` -> `out.lock`: held while a run writes `out` (one run per output)."""
    p = Path(out)
    return p.with_name(p.name.removesuffix(".jsonl") + ".lock")


def dumps(obj: dict[str, Any]) -> str:
    """One output line, by the one JSONL writer's rules (NaN -> null, dates as ISO text)."""
    return jsonl.dumps(obj)


class ResumableJsonl:
    """`write(obj)` appends a JSON line unless a line with the same `id` is already there."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.existing: dict[str, str] = {}  # id -> line, from an earlier (interrupted) run
        self.resumed_lines = self._reconcile()
        self.order: list[str] = []  # ids this run produced, in order
        self._lines: dict[str, str] = {}
        self._fh = open(self.path, "a", encoding="utf-8")  # closed in close()/abort()

    def _reconcile(self) -> int:
        if not self.path.exists():
            return 0
        data = self.path.read_bytes()
        good_end = 0
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            if nl == -1:
                break  # no newline: the last write was cut short
            line = data[pos:nl].decode("utf-8", errors="replace")
            try:
                obj = json.loads(line)
            except ValueError:
                break
            if isinstance(obj, dict) and "id" in obj:
                self.existing[str(obj["id"])] = line
            good_end = pos = nl + 1
        if good_end < len(data):
            warn(f"{self.path}: cut a partly written line at byte {good_end} (interrupted run)")
            with open(self.path, "r+b") as fh:
                fh.truncate(good_end)
        return len(self.existing)

    def __contains__(self, record_id: str) -> bool:
        return record_id in self._lines

    def write(self, obj: dict[str, Any]) -> bool:
        """Append `obj` (with an `id`); False if this run already wrote that id."""
        rid = str(obj["id"])
        if rid in self._lines:
            return False
        line = dumps(obj)
        self._lines[rid] = line
        self.order.append(rid)
        if self.existing.get(rid) != line:
            self._fh.write(line + "\n")
            self._fh.flush()
        return True

    def __len__(self) -> int:
        return len(self.order)

    def close(self) -> None:
        """Finish: make the file hold exactly this run's records in this run's order."""
        if self._fh.closed:
            return
        self._fh.close()
        on_disk = self.path.read_text(encoding="utf-8").splitlines()
        wanted = [self._lines[i] for i in self.order]
        if on_disk != wanted:
            tmp = self.path.with_name(self.path.name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.writelines(line + "\n" for line in wanted)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(self.path)

    def abort(self) -> None:
        """Stop without reconciling (the run failed); what was written stays for a resume."""
        if not self._fh.closed:
            self._fh.close()
        if not self.order and not self.existing and self.path.stat().st_size == 0:
            self.path.unlink()  # failed before writing anything: leave no empty file behind
