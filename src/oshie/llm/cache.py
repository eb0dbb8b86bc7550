"""A content-addressed SQLite cache of finished LLM calls, so no finished call is paid twice.

The key is a hash of the generator's identity (backend, model name, endpoint without
credentials, model fingerprint when known) and the request (chat messages or prompt,
sampling params, effective seed, sample index). Each answer is committed the moment its call finishes, before the
caller sees it, so a killed or crashed run resumes where it stopped. The database is in
WAL mode; one connection per cache writes from the event-loop thread under a lock, and
other processes may read (or write) concurrently. Only the request content and the
answer are stored: never API keys, headers or URLs.

Opening is safe with many processes at once (the switch to WAL is retried while another
process holds the lock) and never harms a file that is not a cache: an existing file is
first checked through a read-only connection, and one of another schema, or not SQLite at
all, is refused with a clear error before anything is written to it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from oshie.errors import UsageError
from oshie.llm.base import LLM, Generation, LLMRequest, ResultCallback, Usage

SCHEMA_VERSION = 1

T = TypeVar("T")
OPEN_TIMEOUT_S = 30.0
_TABLES = {"calls", "meta"}
_COLUMNS = ["key", "backend", "model", "kind", "request", "text", "finish_reason",
            "prompt_tokens", "completion_tokens", "created"]

_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    kind TEXT NOT NULL,
    request TEXT NOT NULL,
    text TEXT NOT NULL,
    finish_reason TEXT,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');
COMMIT;
"""


def request_key(identity: dict[str, Any], request: LLMRequest) -> str:
    """The cache key of a request sent to the generator described by `identity`."""
    params = request.params.model_dump()
    params["seed"] = request.effective_seed()
    payload = {
        "v": SCHEMA_VERSION,
        "identity": identity,
        "kind": request.kind,
        "messages": request.messages,
        "prompt": request.prompt,
        "params": params,
        "sample_index": request.sample_index,
    }
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _not_a_cache(path: Path, why: str) -> UsageError:
    return UsageError(
        f"{path} is not an oshie LLM cache ({why}); it was left untouched",
        field="cache",
        hint="point the cache at a new file (e.g. runs/llm_cache.sqlite) or delete this one",
    )


def _check_existing(path: Path) -> None:
    """Refuse a file that is not an oshie cache, looking through a read-only connection."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=OPEN_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise _not_a_cache(path, str(exc)) from exc
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables - _TABLES:
            names = ", ".join(sorted(tables - _TABLES)[:5])
            raise _not_a_cache(path, f"an SQLite database with other tables: {names}")
        if "calls" in tables:
            columns = [r[1] for r in conn.execute("PRAGMA table_info(calls)")]
            if columns != _COLUMNS:
                raise _not_a_cache(path, "its 'calls' table has other columns")
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            if row is not None and row[0] != str(SCHEMA_VERSION):
                raise _not_a_cache(
                    path, f"cache schema {row[0]}, this oshie reads schema {SCHEMA_VERSION}"
                )
    except sqlite3.DatabaseError as exc:
        if "malformed" in str(exc):
            raise UsageError(
                f"the LLM cache {path} is damaged ({exc})", field="cache",
                hint="move it aside to start a new cache",
            ) from exc
        raise _not_a_cache(path, str(exc)) from exc
    finally:
        conn.close()


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """`PRAGMA journal_mode=WAL`, retried: while another process holds the lock it fails
    with SQLITE_BUSY at once, ignoring the busy timeout."""
    deadline = time.monotonic() + OPEN_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() == "wal":
                return
            busy: Exception = sqlite3.OperationalError(f"journal mode stayed {mode}")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            busy = exc
        if time.monotonic() > deadline:
            raise busy
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def connect(db_path: str | Path) -> sqlite3.Connection:
    """An autocommit connection to the cache file, created (in WAL mode) if needed."""
    path = Path(db_path)
    if path.is_dir():
        raise UsageError(
            f"{path} is a directory",
            field="cache",
            hint="give a file path for the cache, e.g. runs/llm_cache.sqlite",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.stat().st_size > 0:
        _check_existing(path)
    conn = sqlite3.connect(
        str(path), timeout=OPEN_TIMEOUT_S, check_same_thread=False, isolation_level=None
    )
    try:
        _switch_to_wal(conn)
        # NORMAL in WAL mode survives a killed process (not a power cut) and is fast
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _not_a_cache(path, str(exc)) from exc
    return conn


def _guarded(path: Path, work: Callable[[], T]) -> T:
    """Run a query; damage found only now (a corrupt page) becomes a clear error."""
    try:
        return work()
    except sqlite3.DatabaseError as exc:
        raise UsageError(
            f"the LLM cache {path} cannot be used: {exc}",
            field="cache",
            hint="the file is damaged or locked by a stuck process; move it aside to start "
            "a new cache (answers already paid for are in it)",
        ) from exc


@dataclass
class CacheStats:
    path: str
    entries: int
    hits: int = 0
    misses: int = 0
    size_bytes: int = 0
    by_model: dict[str, int] = field(default_factory=dict)
    oldest: float | None = None
    newest: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "oldest": _iso(self.oldest), "newest": _iso(self.newest)}


def _iso(t: float | None) -> str | None:
    return None if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def cache_stats(db_path: str | Path) -> CacheStats:
    """Entries per backend/model and the time span of an existing cache file."""
    path = Path(db_path)
    if not path.is_file():
        raise UsageError(
            f"{path}: no such cache file", hint="pass the path given as 'cache' in the LLM config"
        )
    conn = connect(path)

    def query() -> tuple[Any, dict[str, int]]:
        span = conn.execute("SELECT COUNT(*), MIN(created), MAX(created) FROM calls").fetchone()
        rows = conn.execute(
            "SELECT backend, model, COUNT(*) FROM calls GROUP BY backend, model "
            "ORDER BY COUNT(*) DESC"
        )
        return span, {f"{backend}:{model}": n for backend, model, n in rows}

    try:
        (entries, oldest, newest), by_model = _guarded(path, query)
    finally:
        conn.close()
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    return CacheStats(
        str(path), entries, size_bytes=size, by_model=by_model, oldest=oldest, newest=newest
    )


class CachedLLM(LLM):
    """Wrap any LLM: answered calls come from SQLite, the rest go to `inner` and are stored.

    Identical requests inside one batch are sent once. `hits` and `misses` count this
    object's lookups (this run).
    """

    def __init__(self, inner: LLM, db_path: str | Path) -> None:
        super().__init__(model=inner.model, concurrency=inner.concurrency)
        self.inner = inner
        self.backend = inner.backend
        self.db_path = Path(db_path)
        self._conn = connect(self.db_path)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"CachedLLM({self.inner!r}, db_path={str(self.db_path)!r})"

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    def key(self, request: LLMRequest) -> str:
        return request_key(self.identity(), request)

    def get(self, request: LLMRequest) -> Generation | None:
        """The stored answer to `request`, or None."""
        return self._get(self.key(request))

    def _get(self, key: str) -> Generation | None:
        with self._lock:
            row = _guarded(self.db_path, lambda: self._conn.execute(
                "SELECT text, finish_reason, prompt_tokens, completion_tokens FROM calls "
                "WHERE key = ?",
                (key,),
            ).fetchone())
        if row is None:
            return None
        return Generation(
            text=row[0],
            finish_reason=row[1],
            usage=Usage(prompt_tokens=row[2], completion_tokens=row[3]),
            cached=True,
        )

    def _put(self, key: str, request: LLMRequest, gen: Generation) -> None:
        ident = self.identity()
        req = request.model_dump(mode="json")
        with self._lock:
            # autocommit mode: the row is durable when execute returns
            _guarded(self.db_path, lambda: self._conn.execute(
                "INSERT OR REPLACE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    str(ident.get("backend", "")),
                    str(ident.get("model", "")),
                    request.kind,
                    json.dumps(req, ensure_ascii=False, sort_keys=True),
                    gen.text,
                    gen.finish_reason,
                    gen.usage.prompt_tokens,
                    gen.usage.completion_tokens,
                    time.time(),
                ),
            ))

    async def _schedule(
        self, requests: Sequence[LLMRequest], deliver: ResultCallback, desc: str | None
    ) -> None:
        """Stored answers first; the rest go to `inner` once each, stored as they finish."""
        await self.inner.prepare()
        pending: dict[str, list[int]] = {}
        for i, req in enumerate(requests):
            key = self.key(req)
            if key in pending:  # same call twice in this batch: ask once
                pending[key].append(i)
                continue
            hit = self._get(key)
            if hit is not None:
                self.hits += 1
                deliver(i, hit)
            else:
                self.misses += 1
                pending[key] = [i]
        todo = list(pending.items())

        def finished(j: int, gen: Generation) -> None:
            key, indexes = todo[j]
            self._put(key, requests[indexes[0]], gen)
            for i in indexes:
                deliver(i, gen)

        if todo:
            await self.inner.agenerate(
                [requests[ix[0]] for _, ix in todo], on_result=finished, desc=desc
            )

    async def _agenerate_one(self, request: LLMRequest) -> Generation:
        return (await self.agenerate([request]))[0]

    def stats(self) -> CacheStats:
        """Entries in the file plus this run's hits and misses."""
        s = cache_stats(self.db_path)
        s.hits, s.misses = self.hits, self.misses
        return s

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        self.inner.close()
