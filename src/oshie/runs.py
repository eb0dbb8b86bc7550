"""Runs are directories: a stage writes `manifest.json` beside its outputs.

The manifest records inputs with content hashes, the config, package versions, the
git revision and timings, so a result can be traced and a rerun can skip finished work.
Secrets never go in: config keys that look like keys/tokens are redacted.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

# Key names whose values are secrets. Matched on the shape of the whole key so that
# `max_tokens`, `eos_token` or `cache_key` stay visible while `api_key`, `hf_token` or
# `Authorization` are hidden. `api_key_env` names an environment variable, not its value.
_SECRET_NAMES = frozenset({"token", "key", "secret", "password", "authorization", "bearer", "apikey"})
_SECRET_SUFFIXES = ("api_key", "apikey", "access_key", "private_key", "secret_key", "secret",
                    "password", "auth_token", "access_token", "hf_token", "api_token")
_PACKAGES = (
    "oshie", "torch", "transformers", "trl", "peft", "datasets", "accelerate",
    "tokenizers", "sentencepiece", "safetensors", "numpy", "pydantic", "httpx",
)


def file_hash(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file, or of every file under a directory (names and contents)."""
    p = Path(path)
    h = hashlib.sha256()
    files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    for f in files:
        if p.is_dir():
            h.update(str(f.relative_to(p)).encode())
        with open(f, "rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
    return h.hexdigest()


def package_versions(names: Iterable[str] = _PACKAGES) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_revision(cwd: str | Path | None = None) -> str | None:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if rev.returncode != 0:
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=cwd, capture_output=True, text=True, timeout=5,
    ).stdout.strip()
    return rev.stdout.strip() + ("-dirty" if dirty else "")


def is_secret_key(name: str) -> bool:
    """True for key names such as `api_key`, `hf_token`, `Authorization`, `password`."""
    lowered = name.lower().replace("-", "_")
    return lowered in _SECRET_NAMES or lowered.endswith(_SECRET_SUFFIXES)


def redact(obj: Any) -> Any:
    """Replace values of secret-looking keys with '***' (recursively)."""
    if isinstance(obj, dict):
        return {k: ("***" if is_secret_key(str(k)) and v else redact(v)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [redact(v) for v in obj]
    return obj


def write_json(path: str | Path, obj: Any) -> None:
    """Write JSON atomically, Japanese kept readable."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(p)


class Manifest:
    """Collects what a stage did, then writes `manifest.json` into its run directory."""

    def __init__(self, run_dir: str | Path, stage: str, config: Any = None) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if hasattr(config, "model_dump"):
            config = config.model_dump(mode="json")
        self.data: dict[str, Any] = {
            "stage": stage,
            "config": redact(config),
            "inputs": {},
            "versions": package_versions(),
            "git_revision": git_revision(Path(__file__).parent),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        self._t0 = time.perf_counter()

    def add_input(self, name: str, path: str | Path) -> str:
        digest = file_hash(path)
        self.data["inputs"][name] = {"path": str(path), "sha256": digest}
        return digest

    def set(self, key: str, value: Any) -> None:
        self.data[key] = redact(value)

    def write(self, **extra: Any) -> Path:
        self.data.update(redact(extra))
        self.data["wall_time_s"] = round(time.perf_counter() - self._t0, 3)
        path = self.run_dir / "manifest.json"
        write_json(path, self.data)
        return path
