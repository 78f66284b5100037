"""Faults at every step of a month's publish (issue 15, acceptance): kill -9 at load, compute,
while the staging warehouse is written, just before and just after the warehouse swap, in the
middle of the export swap and while the report is written; SIGTERM and SIGINT; a full disk
under the warehouse and under the exports. After each, the warehouse, the exports and the
report of every month agree with one another (tests/flows/consistency.py), and the next run
succeeds.

One warehouse is prepared per module (September and October 2025 of the embedded sample, with
vehicles and a scenario) and copied for each test. The run under test changes October (every
customs value raised by 10%, in a copy of the whole sample file so the sample's vehicles
still find their lines), so any half-applied publish would show. Kill -9 and disk-full
runs are `run_months` in a child process without Prefect (the faults are in the publish, and
this keeps each run to a few seconds); SIGTERM and SIGINT go to the real command line
(reporting to the session's Prefect API), and no process of it may outlive it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import polars as pl
import pytest

from tests.flows.cli_process import listed_segments, published, start
from tests.flows.consistency import assert_month_consistent

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
MONTHS = ("2025-09", "2025-10")
SCENARIOS = ("no_japan_deal",)

RUN_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from flows.run.monthly import RunOptions, run_months
    db, exports, customs, vehicles, month = sys.argv[1:6]
    options = RunOptions(db_path=Path(db), exports_dir=Path(exports),
                         inputs={"customs": Path(customs), "vehicles": Path(vehicles)},
                         scenarios=("no_japan_deal",))
    results = run_months([month], options)
    for result in results:
        print(result.month, result.status, result.error or "", flush=True)
    sys.exit(0 if results and results[-1].status == "success" else 1)
    """
)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """A folder with `w.duckdb` and `exports/` holding MONTHS, and the inputs."""
    root = tmp_path_factory.mktemp("faults")
    raised = root / "october_raised.parquet"
    lines = pl.read_parquet(SAMPLE / "customs_lines.parquet")
    lines.with_columns(
        (pl.col("customs_value_usd").cast(pl.Decimal(18, 2)) * pl.lit(11, pl.Decimal(18, 2)) / 10)
        .round(2).cast(pl.Decimal(18, 2)).cast(pl.Utf8).alias("customs_value_usd")
    ).write_parquet(raised)
    for month in MONTHS:
        done = child_run(root, SAMPLE / "customs_lines.parquet", month)
        assert done.returncode == 0, done.stdout + done.stderr
    for month in MONTHS:
        assert_month_consistent(root / "w.duckdb", root / "exports", month)
    return root


def copy_warehouse(prepared: Path, root: Path) -> None:
    """The warehouse is its catalog file and its segment store: copy both."""
    root.mkdir(exist_ok=True)
    shutil.copy2(prepared / "w.duckdb", root / "w.duckdb")
    shutil.copytree(prepared / "w.duckdb.d", root / "w.duckdb.d")


def copy_of(prepared: Path, tmp_path: Path) -> Path:
    target = tmp_path / "w"
    copy_warehouse(prepared, target)
    shutil.copytree(prepared / "exports", target / "exports")
    return target


def child_args(root: Path, customs: Path, month: str) -> list[str]:
    return [sys.executable, "-c", RUN_SCRIPT, str(root / "w.duckdb"), str(root / "exports"), str(customs),
            str(SAMPLE / "vehicles.parquet"), month]


def child_run(root: Path, customs: Path, month: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(child_args(root, customs, month), cwd=REPO, env=dict(os.environ, **env),
                          capture_output=True, text=True, timeout=300)


def pause_env(root: Path, point: str) -> tuple[dict[str, str], Path]:
    marker = root / f"paused-{point}"
    return dict(TARIFFCOST_TEST_PAUSE_AT=point, TARIFFCOST_TEST_PAUSE_FILE=str(marker),
                TARIFFCOST_TEST_PAUSE_SECONDS="120"), marker


def wait_for(marker: Path, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not marker.exists():
        if process.poll() is not None:
            out, err = process.communicate() if process.stdout else ("", "")
            raise AssertionError(f"the run ended before its pause point: {out}\n{err}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the run never reached {marker.name}")
        time.sleep(0.05)


def assert_all_consistent(root: Path) -> None:
    for month in MONTHS:
        assert_month_consistent(root / "w.duckdb", root / "exports", month)


def next_run_succeeds(root: Path) -> None:
    """Another month runs (and cleans what the fault left first), then everything agrees."""
    done = child_run(root, SAMPLE / "customs_lines.parquet", "2025-09")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not [p.name for p in root.iterdir() if ".staging-" in p.name]
    assert not [p.name for p in (root / "exports").iterdir() if p.name.startswith(".")]
    store = root / "w.duckdb.d"  # what the fault left in the store is gone: it holds what the catalog lists
    assert sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()) == sorted(
        listed_segments(root / "w.duckdb"))
    assert_all_consistent(root)


# (pause point, whether the warehouse swap has happened when the run is killed there)
KILL_POINTS = [
    ("load", False),  # reading the inputs
    ("compute", False),  # building the marts
    ("staging", False),  # the staging warehouse half written
    ("publish", False),  # staging warehouse, exports and report written, just before the swap
    ("swapped", True),  # the warehouse swapped in, the exports not yet
    ("exports", True),  # half the export folders swapped
    ("report", False),  # the report being written (in the staging area)
]


@pytest.mark.parametrize(("point", "swapped"), KILL_POINTS, ids=[p for p, _ in KILL_POINTS])
def test_kill_9_leaves_every_month_consistent(prepared, tmp_path, point, swapped):
    root = copy_of(prepared, tmp_path)
    before = published(root / "w.duckdb", root / "exports")
    env, marker = pause_env(root, point)
    process = subprocess.Popen(child_args(root, prepared / "october_raised.parquet", "2025-10"), cwd=REPO,
                               env=dict(os.environ, **env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(marker, process)

    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)

    if swapped:
        assert published(root / "w.duckdb", root / "exports")[0] != before[0]  # the new warehouse is live
    else:
        assert published(root / "w.duckdb", root / "exports") == before  # nothing changed, byte for byte
        assert_all_consistent(root)
    next_run_succeeds(root)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_load_stops_the_run_cleanly(prepared, tmp_path, signum, prefect_api_url):
    root = copy_of(prepared, tmp_path)
    before = published(root / "w.duckdb", root / "exports")
    env, marker = pause_env(root, "load")
    tag = uuid.uuid4().hex
    output = tmp_path / "run"
    process = start("run", "--month", "2025-10", "--customs", prepared / "october_raised.parquet",
                    "--vehicles", SAMPLE / "vehicles.parquet", "--scenario", "no_japan_deal",
                    "--db", root / "w.duckdb", "--exports", root / "exports", output=output,
                    api_url=prefect_api_url, TARIFFCOST_TEST_TAG=tag, **env)
    wait_for(marker, process)

    process.send_signal(signum)
    process.wait(120)
    out, err = Path(f"{output}.out").read_text(), Path(f"{output}.err").read_text()

    assert process.returncode != 0, out + err
    assert "Task run is not set" not in out + err
    assert "Traceback" not in out + err
    assert published(root / "w.duckdb", root / "exports") == before
    assert not orphans(tag), f"processes of the run outlived it: {orphans(tag)}"
    next_run_succeeds(root)


def orphans(tag: str) -> list[int]:
    """Live processes whose environment carries the test's tag (children of the run)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"TARIFFCOST_TEST_TAG={tag}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().split(") ")[-1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


# ------------------------------------------------------------------------------- disk full


def _can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(f"/tmp/tariffcost-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], capture_output=True)
        return ok
    finally:
        probe.rmdir()


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs root and tmpfs mounts to fill a disk")


def tree_bytes(path: Path) -> int:
    """What the files under `path` take on a tmpfs: whole 4 KiB pages."""
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    return sum(-(-p.stat().st_size // 4096) * 4096 for p in files)


@pytest.fixture
def small_disk(tmp_path):
    """mount(folder, bytes) → `folder` on a tmpfs of that size (unmounted after the test);
    grow(folder, bytes) resizes it."""
    mounted: list[Path] = []

    def mount(folder: Path, size: int) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
        mounted.append(folder)
        return folder

    def grow(folder: Path, size: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(folder)], check=True)

    yield mount, grow
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@needs_mount
@pytest.mark.parametrize("where", ["warehouse", "exports"])
def test_a_full_disk_publishes_nothing_and_the_next_run_succeeds(prepared, tmp_path, small_disk, where):
    mount, grow = small_disk
    root = tmp_path / "w"
    if where == "warehouse":
        # room for the warehouse, its exports and journal, not for October's new segments and catalog
        disk = mount(root, tree_bytes(prepared / "w.duckdb") + tree_bytes(prepared / "w.duckdb.d")
                     + tree_bytes(prepared / "exports") + 64 * 1024)
        copy_warehouse(prepared, root)
        shutil.copytree(prepared / "exports", root / "exports")
    else:
        copy_warehouse(prepared, root)
        # room for the published exports, not for a second copy of October's
        disk = mount(root / "exports", tree_bytes(prepared / "exports") + 128 * 1024)
        shutil.copytree(prepared / "exports", root / "exports", dirs_exist_ok=True)
    before = published(root / "w.duckdb", root / "exports")

    done = child_run(root, prepared / "october_raised.parquet", "2025-10")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "No space left on device" in done.stdout + done.stderr
    assert published(root / "w.duckdb", root / "exports") == before
    assert_all_consistent(root)
    grow(disk, 512 * 1024 * 1024)
    again = child_run(root, prepared / "october_raised.parquet", "2025-10")  # the next run, with room
    assert again.returncode == 0, again.stdout + again.stderr
    assert_all_consistent(root)
