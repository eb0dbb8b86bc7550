"""The one guard every writing command calls before it opens an output.

No command may overwrite its own input: `oshie data validate X --quarantine X` would
truncate X before reading it, and `oshie synth respond X --out X` would replace human
answers with generated ones. `guard_outputs` refuses, before anything is written, any
output that is the same path or the same file through a link (same inode), and names
both files in the error (exit code 2).

A command whose output is a run directory passes the directory and each file it writes
there: an input may be neither (`oshie model merge A --out A`, `oshie eval judge --answers
R/answers.jsonl --out R`), while inputs that merely sit in that directory stay allowed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from oshie.errors import UsageError

__all__ = ["exclusive_lock", "guard_outputs", "same_file"]

PathLike = str | os.PathLike[str]


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def same_file(a: PathLike, b: PathLike) -> bool:
    """True when `a` and `b` name one file: the same resolved path or the same inode."""
    pa, pb = Path(a), Path(b)
    if pa.resolve() == pb.resolve():
        return True
    ia, ib = _identity(pa), _identity(pb)
    return ia is not None and ia == ib


def guard_outputs(
    outputs: Iterable[PathLike | None],
    inputs: Iterable[PathLike | None],
    *,
    option: str | None = None,
) -> None:
    """Refuse outputs that would overwrite an input; also refuse one output named twice.

    Pass every file the command will write (outputs, quarantine, rejected, manifest) and
    every file it reads. `None` entries are ignored so optional paths can go in directly.
    """
    outs = [Path(o) for o in outputs if o is not None]
    ins = [Path(i) for i in inputs if i is not None]
    where = f" ({option})" if option else ""
    for out in outs:
        src = next((i for i in ins if same_file(out, i)), None)
        if src is not None:
            raise UsageError(
                f"the output {out}{where} is the input {src}; writing it would destroy the input",
                hint="choose a different output path (oshie never overwrites its own input)",
            )
    for n, out in enumerate(outs):
        if any(same_file(out, prev) for prev in outs[:n]):
            raise UsageError(
                f"{out} is named as two different outputs of one run",
                hint="give each output its own path",
            )


@contextmanager
def exclusive_lock(lock_file: PathLike, message: str, *, hint: str, path: PathLike | None = None) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock on `lock_file` for the block; a second holder
    gets a UsageError (exit 2) with `message` (naming `path`) instead of racing on shared files.

    The lock is an OS file lock, so it is released when the process dies (a killed run
    never leaves a stale lock behind); the small lock file itself is left in place.
    """
    import fcntl

    lock = Path(lock_file)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(message, path=path if path is not None else lock, hint=hint) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
