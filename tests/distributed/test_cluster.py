"""Acceptance: `tariffcost backfill --cluster` on a real scheduler and two worker processes
(127.0.0.1) publishes exactly what the sequential backfill publishes, and survives a worker
killed mid-backfill (Dask reschedules its task) or fails with nothing published."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.distributed.conftest import local_dask
from tests.distributed.tables import assert_same_publication, published_tables

START, END = "2025-01", "2025-06"
runner = CliRunner()
pytestmark = pytest.mark.slow


def backfill(db: Path, exports: Path, *extra: str):
    args = ["backfill", "--from", START, "--to", END, "--db", str(db), "--exports", str(exports), *extra]
    return runner.invoke(app, args)


@pytest.fixture(scope="module")
def sequential(prefect_harness, tmp_path_factory):
    """The sequential backfill of the embedded sample (customs and vehicles), 6 months."""
    root = tmp_path_factory.mktemp("sequential")
    result = backfill(root / "w.duckdb", root / "exports")
    assert result.exit_code == 0, result.output
    return root / "w.duckdb", root / "exports"


def test_cluster_backfill_publishes_the_sequential_tables(sequential, tmp_path):
    with local_dask(2, tmp_path / "logs") as cluster:
        # months of more than 2,500 lines (2025-02, 2025-03, 2025-06) run as 2 entry-hash
        # partitions merged on the cluster; the others as whole months
        result = backfill(tmp_path / "w.duckdb", tmp_path / "exports",
                          "--cluster", cluster.address, "--partition-lines", "2500")
    assert result.exit_code == 0, result.output
    assert "6 of 6 months published" in result.stdout
    assert_same_publication(*sequential, tmp_path / "w.duckdb", tmp_path / "exports")
    assert not (tmp_path / ".cluster-staging").exists()


def test_a_worker_killed_mid_backfill_is_survived_or_nothing_is_published(sequential, tmp_path):
    marker = tmp_path / "paused"
    # every month task sleeps 1 s before building the marts, writing its pid to `marker`
    env = {"TARIFFCOST_TEST_PAUSE_AT": "compute", "TARIFFCOST_TEST_PAUSE_FILE": str(marker),
           "TARIFFCOST_TEST_PAUSE_SECONDS": "1"}
    killed: list[int] = []
    with local_dask(2, tmp_path / "logs", worker_env=env) as cluster:
        pids = {w.pid for w in cluster.workers}

        def kill_first_paused_worker() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if marker.exists():
                    pid = int(marker.read_text().split()[0])
                    if pid in pids:  # only a worker this test started
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                        return
                time.sleep(0.02)

        killer = threading.Thread(target=kill_first_paused_worker, daemon=True)
        killer.start()
        result = backfill(tmp_path / "w.duckdb", tmp_path / "exports", "--cluster", cluster.address)
        killer.join(timeout=5)
    assert len(killed) == 1, "no worker was killed mid-task"
    print(f"worker {killed[0]} killed; backfill exit code {result.exit_code}")
    if result.exit_code == 0:
        assert "6 of 6 months published" in result.stdout
        assert_same_publication(*sequential, tmp_path / "w.duckdb", tmp_path / "exports")
    else:  # a clean failure: no table published, no export written
        assert result.exit_code == 1, result.output
        db = tmp_path / "w.duckdb"
        assert not db.exists() or set(published_tables(db)) <= {"runs"}
        assert not (tmp_path / "exports" / "duty_lines").exists()
