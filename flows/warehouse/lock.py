"""One writer at a time: an exclusive `fcntl.flock` on `<db>.lock` beside the warehouse.

The lock is held for a whole run or backfill (load to publish), so a second run is refused
at once with who holds it, or waits up to `wait_seconds`. The kernel drops the lock when the
holder exits, even on `kill -9`, so a stale lock file never blocks anyone.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

POLL_SECONDS = 0.1


class LockHeld(RuntimeError):
    """Another process holds the warehouse lock."""


@dataclass(frozen=True)
class LockInfo:
    path: Path
    pid: int
    since: str


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


def _holder(fd: int) -> str:
    """What the current holder wrote into the lock file ("pid …, since …")."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", errors="replace").strip()
    return text or "pid unknown, since unknown"


@contextmanager
def warehouse_lock(db_path: Path, wait_seconds: float = 0.0) -> Iterator[LockInfo]:
    """Hold the exclusive warehouse lock for the body of the `with` block.

    Raises `LockHeld("another run holds the warehouse lock (pid …, since …)")` when it is
    taken and still taken after `wait_seconds`."""
    path = lock_path(Path(db_path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    waited = f" after waiting {wait_seconds:g} s" if wait_seconds > 0 else ""
                    raise LockHeld(
                        f"another run holds the warehouse lock ({_holder(fd)}){waited}; "
                        f"lock file {path}"
                    ) from None
                time.sleep(POLL_SECONDS)
        since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        info = LockInfo(path=path, pid=os.getpid(), since=since)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"pid {info.pid}, since {since}\n".encode())
        try:
            yield info
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
