"""Real processes: a reader holding the warehouse while a publish happens, runs killed with
SIGKILL during compute and during publish, and two runs at once. The run under test is a
subprocess running the month logic without Prefect; the TARIFFCOST_TEST_PAUSE_AT hook
stops it at the named point so it can be killed there."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from flows.run.monthly import RunOptions, run_months
from flows.warehouse.lock import LockHeld
from flows.warehouse.publish import publish_month
from tests.flows.frames import CAR_JUNE, CAR_MARCH, by_hs_month, run_record

pytestmark = pytest.mark.slow  # real processes, killed with SIGKILL


REPO = Path(__file__).resolve().parents[2]

RUN_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from flows.run.monthly import RunOptions, run_months
    db, exports, customs, month = sys.argv[1:5]
    options = RunOptions(db_path=Path(db), exports_dir=Path(exports), inputs={"customs": Path(customs)})
    results = run_months([month], options)
    sys.exit(0 if results[-1].status == "success" else 1)
    """
)

READER_SCRIPT = textwrap.dedent(
    """
    import sys
    import duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    count = "SELECT count(*) FROM fct_duty_by_hs_month"
    print("before", con.sql(count).fetchall()[0][0], flush=True)
    sys.stdin.readline()  # the test publishes another month meanwhile
    print("after", con.sql(count).fetchall()[0][0], flush=True)
    """
)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def live_tree(root: Path) -> dict[str, str]:
    """The export files a reader sees (staging and trash folders start with a dot)."""
    return {
        str(p.relative_to(root)): sha(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def start_run(tmp_path: Path, customs: Path, month: str, pause_at: str) -> tuple[subprocess.Popen, Path]:
    marker = tmp_path / f"paused-{pause_at}"
    env = dict(os.environ, TARIFFCOST_TEST_PAUSE_AT=pause_at, TARIFFCOST_TEST_PAUSE_FILE=str(marker),
               TARIFFCOST_TEST_PAUSE_SECONDS="120")
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_SCRIPT, str(tmp_path / "w.duckdb"), str(tmp_path / "exports"),
         str(customs), month],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90
    while not marker.exists():
        if process.poll() is not None:
            raise AssertionError(f"run exited early: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("run never reached the pause point")
        time.sleep(0.05)
    return process, marker


def kill9(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    assert process.returncode == -signal.SIGKILL


def options(tmp_path: Path, customs: Path) -> RunOptions:
    return RunOptions(db_path=tmp_path / "w.duckdb", exports_dir=tmp_path / "exports",
                      inputs={"customs": customs})


def test_reader_keeps_its_snapshot_while_a_publish_swaps_the_file(tmp_path):
    db = tmp_path / "w.duckdb"
    common = dict(db_path=db, exports_dir=tmp_path / "exports", exports={})
    jan = by_hs_month("2025-01", [("8703230190", 1, "30000.00", "750.00")])
    feb = by_hs_month("2025-02", [("8703230190", 1, "30000.00", "750.00"), ("8708999999", 1, "10.00", "0.25")])
    publish_month(month="2025-01", tables={"fct_duty_by_hs_month": jan}, run=run_record("r1", "2025-01"), **common)
    reader = subprocess.Popen([sys.executable, "-c", READER_SCRIPT, str(db)], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().split() == ["before", "1"]

        publish_month(month="2025-02", tables={"fct_duty_by_hs_month": feb}, run=run_record("r2", "2025-02"), **common)

        out, err = reader.communicate("go\n", timeout=30)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, err
    assert out.split() == ["after", "1"]  # the reader's snapshot: January only
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("SELECT count(*) FROM fct_duty_by_hs_month").fetchall() == [(3,)]
    con.close()


@pytest.mark.parametrize("pause_at", ["compute", "publish"])
def test_a_run_killed_mid_way_changes_nothing_and_the_next_run_succeeds(tmp_path, customs_csv, pause_at):
    march = customs_csv([CAR_MARCH], name="march.csv")
    june = customs_csv([CAR_JUNE], name="june.csv")
    [first] = run_months(["2025-03"], options(tmp_path, march))
    assert first.status == "success"
    db = tmp_path / "w.duckdb"
    db_before, exports_before = sha(db), live_tree(tmp_path / "exports")

    process, _ = start_run(tmp_path, june, "2025-06", pause_at)
    staged = sorted(p.name for p in tmp_path.iterdir() if ".staging-" in p.name)
    # paused at publish: the staging warehouse is fully written, the swap not yet done
    assert len(staged) == (1 if pause_at == "publish" else 0)
    if pause_at == "compute":
        # meanwhile a second run is refused: the paused one holds the warehouse lock
        with pytest.raises(LockHeld, match=rf"another run holds the warehouse lock \(pid {process.pid}, since "):
            run_months(["2025-06"], options(tmp_path, june))
    kill9(process)

    assert sha(db) == db_before
    assert live_tree(tmp_path / "exports") == exports_before

    [again] = run_months(["2025-06"], options(tmp_path, june))

    assert again.status == "success"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("w.duckdb")) == [
        "w.duckdb", "w.duckdb.d", "w.duckdb.lock",
    ]
    assert not [p for p in (tmp_path / "exports").iterdir() if p.name.startswith(".")]
    con = duckdb.connect(str(db), read_only=True)
    # the killed run's segment files are gone: the store holds exactly what the catalog lists
    listed = {f for (f,) in con.sql("SELECT file FROM tariffcost.segments").fetchall()}
    store = tmp_path / "w.duckdb.d"
    assert {p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()} == listed
    assert con.sql("SELECT month, status FROM runs ORDER BY started_at").fetchall() == [
        ("2025-03", "success"), ("2025-06", "abandoned"), ("2025-06", "success"),
    ]
    assert con.sql("SELECT month, total_duty_usd FROM fct_duty_lines ORDER BY month").fetchall() == [
        ("2025-03", Decimal("750.00")), ("2025-06", Decimal("8250.00")),
    ]
    con.close()
