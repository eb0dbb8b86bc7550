"""Runs are directories: a stage writes `manifest.json` beside its outputs.

The manifest records inputs with content hashes, the config, package versions, the
git revision and timings, so a result can be traced and a rerun can skip finished work.
Secrets never go in: config keys that look like keys/tokens are redacted.
"""

from __future__ import annotations

import hashlib
import platform
import re
import subprocess
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from oshie.jsonl import to_json

__all__ = [
    "WEIGHT_SUFFIXES",
    "Manifest",
    "file_hash",
    "fingerprint",
    "git_revision",
    "is_secret_key",
    "package_versions",
    "redact",
    "redact_url",
    "write_json",
]


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


# Weight files are fingerprinted by sampling (see `fingerprint`); every other file in a model
# directory (config, tokenizer, chat template, generation config) is hashed in full.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".onnx", ".h5",
                   ".msgpack", ".npz")
_EDGE = 1 << 20  # bytes hashed at each end of a weight file
_SAMPLES, _SAMPLE = 16, 1 << 16  # evenly spaced blocks hashed in between
_memo: dict[tuple[str, int, int, int], str] = {}
_RACY_SECONDS = 2.0


def file_hash(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of one file's whole content."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _sampled_hash(path: Path, size: int) -> str:
    """sha256 of a weight file's size, first and last MiB and 16 blocks spread between."""
    if size <= 2 * _EDGE + _SAMPLES * _SAMPLE:
        return file_hash(path)
    h = hashlib.sha256(f"sampled:{size}".encode())
    with open(path, "rb") as fh:
        h.update(fh.read(_EDGE))
        span = size - 2 * _EDGE - _SAMPLE
        for i in range(_SAMPLES):
            fh.seek(_EDGE + span * i // (_SAMPLES - 1))
            h.update(fh.read(_SAMPLE))
        fh.seek(size - _EDGE)
        h.update(fh.read())
    return h.hexdigest()


def fingerprint(path: str | Path) -> str:
    """The identity of an input file or a model directory, for cache keys and manifests.

    A file is its whole content (sha256): datasets and task files are small enough, and a
    changed record must change the key (a weight file alone is sampled as below). A directory is the sha256 of its sorted file list
    (relative path, then the file's hash) where every file is hashed in full except weight
    files (`WEIGHT_SUFFIXES`), which are hashed by size, their first and last MiB and 16
    evenly spaced 64 KiB blocks. Why that is enough: a safetensors file opens with a header
    naming every tensor's dtype, shape and offsets, and retraining or merging changes
    values throughout every tensor, so a different model differs in the sampled bytes;
    reading whole multi-GB weights on every run would cost more than the work a cache saves.
    Modification times are ignored: copying a model keeps its identity, and `touch` does
    not make a cache stale. Results are memoised in-process per (path, size, mtime, inode),
    except for files modified in the last two seconds (timestamps are too coarse to trust).
    """
    p = Path(path)
    if p.is_dir():
        h = hashlib.sha256(b"dir:")
        for f in sorted(q for q in p.rglob("*") if q.is_file()):
            h.update(f"{f.relative_to(p).as_posix()}\0{fingerprint(f)}\n".encode())
        return h.hexdigest()
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    if key in _memo:
        return _memo[key]
    digest = _sampled_hash(p, st.st_size) if p.name.endswith(WEIGHT_SUFFIXES) else file_hash(p)
    # file times tick coarsely: a file changed in the last seconds may change again unseen
    if time.time() - st.st_mtime > _RACY_SECONDS:
        _memo[key] = digest
    return digest


def package_versions(names: Iterable[str] = _PACKAGES) -> dict[str, str]:
    """Versions of the libraries that shape results, so a manifest says what produced it."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_revision(cwd: str | Path | None = None) -> str | None:
    """The checkout's commit (`-dirty` with local edits), or None outside git."""
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


# `scheme://user:password@host` and `?api_key=...`: credentials written into a URL
_URL_USERINFO = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#@\s]*@")
_URL_SECRET_PARAM = re.compile(
    r"([?&](?:[a-z0-9]*[_-])*(?:api_?key|key|token|secret|password|signature|sig|auth)=)[^&#\s]*",
    re.I,
)


def redact_url(text: str) -> str:
    """Text with the credentials of every URL in it replaced by '***': the user:password
    part (`http://***@host/v1`) and the values of key/token/secret query parameters. The
    one function for every URL oshie prints, logs or stores."""
    if "://" not in text:
        return text
    text = _URL_USERINFO.sub(r"\1***@", text)
    return _URL_SECRET_PARAM.sub(r"\1***", text)


def redact(obj: Any) -> Any:
    """Replace values of secret-looking keys with '***' and URL credentials in any string
    (recursively)."""
    if isinstance(obj, dict):
        return {k: ("***" if is_secret_key(str(k)) and v else redact(v)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [redact(v) for v in obj]
    if isinstance(obj, str):
        return redact_url(obj)
    return obj


def write_json(path: str | Path, obj: Any) -> None:
    """Write JSON atomically, Japanese kept readable, NaN/Infinity as null (see `oshie.jsonl`)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(to_json(obj) + "\n", encoding="utf-8")
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
        """Record an input by path and `fingerprint` (a file's sha256, a directory's fingerprint)."""
        digest = fingerprint(path)
        kind = "fingerprint" if Path(path).is_dir() else "sha256"
        self.data["inputs"][name] = {"path": str(path), kind: digest}
        return digest

    def set(self, key: str, value: Any) -> None:
        """Record a value, secrets redacted."""
        self.data[key] = redact(value)

    def write(self, **extra: Any) -> Path:
        """Add the final fields and wall time, then write manifest.json atomically."""
        self.data.update(redact(extra))
        self.data["wall_time_s"] = round(time.perf_counter() - self._t0, 3)
        path = self.run_dir / "manifest.json"
        write_json(path, self.data)
        return path
