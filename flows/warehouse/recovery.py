"""After the warehouse swap, and after a kill: the staged exports swapped into place, and the
leftovers of killed runs cleaned up or rolled forward.

Every publish stages under names of its own (`<db>.staging-<run_id>`, new segment files named
after the run, `<exports>/.staging-<run_id>/`), so what a killed run left is recognisable:
`clean_leftovers`, called by the next run while it holds the warehouse lock, removes staging
catalogs, segment files no live catalog lists and trash folders, and either removes a staging
export folder or, when its run reached the warehouse (`runs` has it as success), swaps it in.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flows.warehouse.catalog import RUNS_TABLE
from flows.warehouse.reader import INTERNAL_SCHEMA, store_path
from flows.warehouse.reader import connect as connect_warehouse
from flows.warehouse.store import fsync_path, remove_files
from flows.warehouse.testing import pause_point

STAGING_PREFIX = ".staging-"
REPORTS_FOLDER = "reports"  # <exports>/reports/<YYYY-MM>.html (flows/present/report.py)
REMOVED_SUFFIX = ".removed"  # a staged marker: the month's report is to be removed
TRASH_PREFIX = ".trash-"


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def staging_db_path(db_path: Path, run_id: str) -> Path:
    return db_path.with_name(f"{db_path.name}{STAGING_PREFIX}{run_id}")


# --------------------------------------------------------------------------------------------
# clean-up of killed runs


def _live_files(db_path: Path) -> set[str] | None:
    """Relative paths of every segment the live catalog lists (live or retired); empty when
    there is no warehouse or one from before the store; None when the file cannot be read
    (then no segment file is touched)."""
    if not db_path.exists():
        return set()
    try:
        con = connect_warehouse(db_path)  # the file as it is now, never a cached instance
    except Exception:
        return None
    try:
        internal = {
            name for (name,) in con.sql(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $s",
                params={"s": INTERNAL_SCHEMA},
            ).fetchall()
        }
        if "segments" not in internal:
            return set()
        return {
            file for (file,) in con.sql(
                f"SELECT file FROM {INTERNAL_SCHEMA}.segments "
                f"UNION ALL SELECT file FROM {INTERNAL_SCHEMA}.retired_segments"
            ).fetchall()
        }
    finally:
        con.close()


def _published_run_ids(db_path: Path, run_ids: list[str]) -> set[str]:
    if not run_ids or not db_path.exists():
        return set()
    con = connect_warehouse(db_path)  # the file as it is now, never a cached instance
    try:
        if not con.sql(
            "SELECT 1 FROM information_schema.tables WHERE table_name = $t AND table_schema = 'main'",
            params={"t": RUNS_TABLE},
        ).fetchall():
            return set()
        rows = con.sql(
            "SELECT run_id FROM runs WHERE status = 'success' AND list_contains($ids, run_id)",
            params={"ids": run_ids},
        ).fetchall()
    finally:
        con.close()
    return {row[0] for row in rows}


def _swap_in(staged_month: Path, target: Path, trash: Path) -> None:
    """Replace `target` by `staged_month` with renames; the old folder goes to `trash`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        trash.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, trash)
    os.replace(staged_month, target)
    fsync_path(target.parent)
    if trash.exists():
        shutil.rmtree(trash)


def _staged_months(staging: Path) -> list[tuple[Path, Path]]:
    """(staged month folder, its path relative to the export root) under a staging folder."""
    found = []
    for month_dir in sorted(staging.glob("*/year=*/month=*")):
        if month_dir.is_dir():
            found.append((month_dir, month_dir.relative_to(staging)))
    return found


def _swap_staged_reports(staging: Path, exports_dir: Path) -> None:
    """Move the staged reports into `<exports>/reports/`; a `<month>.html.removed` marker
    (the month's report could not be built) removes the month's old report instead."""
    staged = staging / REPORTS_FOLDER
    if not staged.is_dir():
        return
    live = exports_dir / REPORTS_FOLDER
    live.mkdir(parents=True, exist_ok=True)
    for path in sorted(staged.iterdir()):
        if path.name.endswith(REMOVED_SUFFIX):
            remove_path(live / path.name.removesuffix(REMOVED_SUFFIX))
            path.unlink()
        elif path.is_file() and not path.name.startswith("."):
            os.replace(path, live / path.name)
    fsync_path(live)


def swap_staged_exports(staging: Path, exports_dir: Path, run_id: str) -> None:
    """Swap every staged month folder into place, then the staged reports (a kill in between
    is rolled forward by clean_leftovers, which calls this again)."""
    trash_root = exports_dir / f"{TRASH_PREFIX}{run_id}"
    for number, (staged, relative) in enumerate(_staged_months(staging)):
        _swap_in(staged, exports_dir / relative, trash_root / relative)
        if number == 0:
            pause_point("exports")  # test hook: half the export folders swapped
    _swap_staged_reports(staging, exports_dir)
    remove_path(trash_root)
    remove_path(staging)


def _orphan_segments(db_path: Path) -> list[Path]:
    """Segment files no live catalog lists: written by a publish that was killed or failed
    before its swap, or retired files a killed publish had already dropped from its list."""
    store = store_path(db_path)
    listed = _live_files(db_path)
    if listed is None or not store.is_dir():
        return []
    return [
        path for path in sorted(store.rglob("*"))
        if path.is_file() and path.relative_to(store).as_posix() not in listed
    ]


def clean_leftovers(db_path: Path, exports_dir: Path) -> list[str]:
    """Remove what killed runs left behind; roll forward exports of a run whose warehouse
    swap happened. Call only while holding the warehouse lock. Returns what it did."""
    done: list[str] = []
    if db_path.parent.exists():
        for path in sorted(db_path.parent.glob(f"{db_path.name}{STAGING_PREFIX}*")):
            remove_path(path)
            done.append(f"removed staging warehouse {path.name}")
    orphans = _orphan_segments(db_path)
    if orphans:
        remove_files(orphans, store_path(db_path))
        done.append(f"removed {len(orphans)} segment file{'s' if len(orphans) != 1 else ''} no catalog lists")
    if not exports_dir.exists():
        return done
    for trash in sorted(exports_dir.glob(f"{TRASH_PREFIX}*")):
        remove_path(trash)
        done.append(f"removed {trash.name}")
    stagings = sorted(p for p in exports_dir.glob(f"{STAGING_PREFIX}*") if p.is_dir())
    run_ids = [p.name.removeprefix(STAGING_PREFIX) for p in stagings]
    published = _published_run_ids(db_path, run_ids)
    for staging, run_id in zip(stagings, run_ids, strict=True):
        if run_id in published:
            swap_staged_exports(staging, exports_dir, run_id)
            done.append(f"rolled forward exports of run {run_id}")
        else:
            remove_path(staging)
            done.append(f"removed staged exports of run {run_id}")
    return done
