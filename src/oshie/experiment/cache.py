"""The stage cache: a stage's key is a content hash of its settings, its input files and the
keys of the stages it depends on, so a change anywhere upstream changes every key below it.
The versions of Python, oshie and the training libraries are part of every key; editing
oshie's source in place is not (delete the affected stage directories to recompute them).

A stage runs in `stages/<kind>-<key>/` (named by content, not by label) and counts as finished only once its
completion marker (`DONE.json`) exists there; the marker is written last, atomically, so
a run killed half-way leaves a directory without one and the stage runs (or resumes) again.
"""

from __future__ import annotations

import functools
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oshie.errors import DataError, UsageError
from oshie.records import stable_hash
from oshie.runs import fingerprint, package_versions, write_json

MARKER = "DONE.json"
KEY_LENGTH = 10
# bump when a stage's outputs change shape, so old caches are not reused by mistake
CACHE_FORMAT = 1
# libraries whose version can change a stage's outputs: upgrading one recomputes the stages
KEY_PACKAGES = ("oshie", "torch", "transformers", "trl", "peft", "tokenizers")

def cached_file_hash(path: str | Path) -> str:
    """`runs.fingerprint` of an input file or a local base model directory, with an error
    that names the experiment file's path rules when it is missing."""
    p = Path(path)
    if not p.exists():
        raise DataError(
            "input not found",
            path=p,
            hint="fix the path in the experiment file "
            "(relative paths are relative to it; 'oshie:...' names a shipped file)",
        )
    return fingerprint(p)


@functools.cache
def _key_versions() -> dict[str, str]:
    return package_versions(KEY_PACKAGES)


@dataclass
class Stage:
    """One node of the experiment graph."""

    id: str  # e.g. "sft/tiny/clean": kind, then the names it is about
    kind: str
    params: dict[str, Any]  # JSON-able settings that change the outputs
    deps: list[str] = field(default_factory=list)  # ids of upstream stages
    files: dict[str, str] = field(default_factory=dict)  # input name -> path (content-hashed)
    key: str = ""
    # settings the adapter needs that do not change the outputs (e.g. a cache file path)
    runtime: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "-".join(self.id.split("/")[1:]) or self.kind

    @property
    def dirname(self) -> str:
        """Content-addressed: two stages of the same kind with the same settings, inputs and
        upstream (e.g. the audits of two variants reading the same file) share a directory."""
        return f"{self.kind}-{self.key}"

    def compute_key(self, dep_keys: dict[str, str]) -> str:
        """Hash of settings + input file contents + upstream keys."""
        self.key = stable_hash(
            {
                "format": CACHE_FORMAT,
                "versions": _key_versions(),
                "kind": self.kind,
                "params": self.params,
                "files": {name: cached_file_hash(p) for name, p in sorted(self.files.items())},
                "deps": {d: dep_keys[d] for d in sorted(self.deps)},
            },
            length=KEY_LENGTH,
        )
        return self.key


@dataclass
class StageOutput:
    """A finished stage as its dependants see it: its directory and the outputs it declared."""

    dir: Path
    outputs: dict[str, Any]

    def path(self, name: str) -> Path:
        value = self.outputs[name]
        p = Path(value)
        return p if p.is_absolute() else self.dir / p


def read_marker(stage_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((stage_dir / MARKER).read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def is_done(stage: Stage, stage_dir: Path) -> bool:
    marker = read_marker(stage_dir)
    return marker is not None and marker.get("key") == stage.key


def write_marker(
    stage: Stage, stage_dir: Path, outputs: dict[str, Any], wall_time_s: float
) -> None:
    write_json(
        stage_dir / MARKER,
        {
            "stage": stage.id,
            "key": stage.key,
            "outputs": outputs,
            "wall_time_s": round(wall_time_s, 3),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )


def clear_unfinished(stage_dir: Path, keep: tuple[str, ...] = ()) -> None:
    """Remove what an interrupted run left, except the named entries (e.g. checkpoints)."""
    if not stage_dir.is_dir():
        return
    for child in stage_dir.iterdir():
        if child.name in keep:
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


Upstream = dict[str, StageOutput]  # an adapter's finished upstream stages, by stage id


def only(upstream: Upstream, prefix: str) -> StageOutput:
    """The upstream stage whose id starts with `prefix` (e.g. "data/"): a stage has one."""
    return next(o for sid, o in upstream.items() if sid.startswith(prefix))


def model_of(upstream: Upstream) -> Path:
    """The model directory produced by the (single) model-producing upstream stage."""
    for out in upstream.values():
        if "model" in out.outputs:
            return out.path("model")
    raise UsageError("no upstream stage produced a model")  # a planning bug, not user error
