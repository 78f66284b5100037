"""The warehouse lock: one holder; the next is refused with who holds it, or waits."""

from __future__ import annotations

import os
import threading
import time

import pytest

from flows.warehouse.lock import LockHeld, lock_path, warehouse_lock


def test_second_holder_is_refused_with_pid_and_since(tmp_path):
    db = tmp_path / "w.duckdb"
    with warehouse_lock(db) as info:
        assert info.path == lock_path(db)
        with pytest.raises(LockHeld) as refused:
            with warehouse_lock(db):
                pass
    message = str(refused.value)
    assert message.startswith(f"another run holds the warehouse lock (pid {os.getpid()}, since ")
    assert info.since in message


def test_lock_is_free_again_after_release(tmp_path):
    db = tmp_path / "w.duckdb"
    with warehouse_lock(db):
        pass
    with warehouse_lock(db) as again:
        assert again.pid == os.getpid()


def test_wait_lock_gets_the_lock_when_the_holder_releases(tmp_path):
    db = tmp_path / "w.duckdb"
    held = threading.Event()
    release = threading.Event()

    def holder():
        with warehouse_lock(db):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    with warehouse_lock(db, wait_seconds=5):
        waited = time.monotonic() - started
    thread.join()
    assert 0.2 < waited < 5


def test_wait_lock_gives_up_after_its_seconds(tmp_path):
    db = tmp_path / "w.duckdb"
    with warehouse_lock(db):
        started = time.monotonic()
        with pytest.raises(LockHeld, match="after waiting 0.3 s"):
            with warehouse_lock(db, wait_seconds=0.3):
                pass
        assert time.monotonic() - started >= 0.3
