"""Safe publishing: one month of every mart into the DuckDB warehouse and the Parquet exports,
all or nothing, while readers keep reading.

Warehouse: the live file is copied to a staging file in the same folder; the staging file
gets the month's rows (delete-then-insert, one transaction per table, parameters only) and
the `runs` row(s); then CHECKPOINT, close, fsync and `os.replace` onto the live path. A
reader holding the old file keeps its snapshot (it holds the old inode).

Exports: the month of each exported table is written under `<exports>/.staging-<run_id>/`
first, then swapped into `<exports>/<export>/year=YYYY/month=M/` by renames (old folder
renamed away, new one renamed in, old one deleted); no other month is touched. Each export
is read from the staging warehouse on a second cursor as soon as its table's transaction is
committed, while the next table is being inserted (`_Exporter`).

Journal: attempts that publish nothing (failed, or killed mid-run) are appended to
`<db>.runs.jsonl`, never to the warehouse, so a failed run leaves it byte-identical. The next
successful publish folds the journal into `runs` and removes it.

Leftovers of a killed run (staging files, staging and trash export folders) are cleaned by
`clean_leftovers`, which the next run calls while holding the warehouse lock. A staging
export folder whose run reached the warehouse (its run_id is in `runs` as success) is rolled
forward instead of deleted, so the exports always end up matching the warehouse.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from flows import progress
from flows.warehouse import exports as exports_module
from flows.warehouse.exports import PARQUET_FILE, Exporter, export_month_dir, in_line_order, quoted
from flows.warehouse.journal import RunRecord, journal_path, read_journal, runs_frame
from flows.warehouse.reader import connect as connect_warehouse
from flows.warehouse.testing import pause_point

# Storage format of a NEW warehouse file: readable by every DuckDB 1.x (and 2.x) client.
# An existing warehouse keeps the storage version it was created with (DuckDB cannot lower it).
STORAGE_VERSION = "v1.0.0"
RUNS_TABLE = "runs"
RUN_ID = "run_id"  # every published row names the run that wrote it
STAGING_PREFIX = ".staging-"
REPORTS_FOLDER = "reports"  # <exports>/reports/<YYYY-MM>.html (flows/present/report.py)
REMOVED_SUFFIX = ".removed"  # a staged marker: the month's report is to be removed
TRASH_PREFIX = ".trash-"

# Settings of the staging connection. FSST is one of the string compressions DuckDB tries on
# every string segment it writes; leaving it out makes the month's insert ~12% cheaper in CPU
# for a warehouse 1-8% larger (dictionary compression does the rest). Only how the new rows
# are stored changes, never what they hold.
STAGING_SETTINGS = ("SET disabled_compression_methods = 'fsst'",)


class PublishError(RuntimeError):
    """Publishing failed; the live warehouse and exports are unchanged."""


# --------------------------------------------------------------------------------------------
# SQL files


def read_ddl(table: str) -> str:
    """The DDL of `table`, from `sql/<table>.sql` (importlib.resources)."""
    resource = resources.files("sql").joinpath(f"{table}.sql")
    if not resource.is_file():
        raise PublishError(f"no DDL for table {table!r}: sql/{table}.sql is missing")
    return resource.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# file-system helpers


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            _fsync_path(Path(folder) / name)
        _fsync_path(Path(folder))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def staging_db_path(db_path: Path, run_id: str) -> Path:
    return db_path.with_name(f"{db_path.name}{STAGING_PREFIX}{run_id}")


# --------------------------------------------------------------------------------------------
# clean-up of killed runs


def _published_run_ids(db_path: Path, run_ids: list[str]) -> set[str]:
    if not run_ids or not db_path.exists():
        return set()
    con = connect_warehouse(db_path)  # the file as it is now, never a cached instance
    try:
        if not con.sql(
            "SELECT 1 FROM information_schema.tables WHERE table_name = $t",
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
    _fsync_path(target.parent)
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
            _remove(live / path.name.removesuffix(REMOVED_SUFFIX))
            path.unlink()
        elif path.is_file() and not path.name.startswith("."):
            os.replace(path, live / path.name)
    _fsync_path(live)


def _swap_staged_exports(staging: Path, exports_dir: Path, run_id: str) -> None:
    """Swap every staged month folder into place, then the staged reports (a kill in between
    is rolled forward by clean_leftovers, which calls this again)."""
    trash_root = exports_dir / f"{TRASH_PREFIX}{run_id}"
    for number, (staged, relative) in enumerate(_staged_months(staging)):
        _swap_in(staged, exports_dir / relative, trash_root / relative)
        if number == 0:
            pause_point("exports")  # test hook: half the export folders swapped
    _swap_staged_reports(staging, exports_dir)
    _remove(trash_root)
    _remove(staging)


def clean_leftovers(db_path: Path, exports_dir: Path) -> list[str]:
    """Remove what killed runs left behind; roll forward exports of a run whose warehouse
    swap happened. Call only while holding the warehouse lock. Returns what it did."""
    done: list[str] = []
    if db_path.parent.exists():
        for path in sorted(db_path.parent.glob(f"{db_path.name}{STAGING_PREFIX}*")):
            _remove(path)
            done.append(f"removed staging warehouse {path.name}")
    if not exports_dir.exists():
        return done
    for trash in sorted(exports_dir.glob(f"{TRASH_PREFIX}*")):
        _remove(trash)
        done.append(f"removed {trash.name}")
    stagings = sorted(p for p in exports_dir.glob(f"{STAGING_PREFIX}*") if p.is_dir())
    run_ids = [p.name.removeprefix(STAGING_PREFIX) for p in stagings]
    published = _published_run_ids(db_path, run_ids)
    for staging, run_id in zip(stagings, run_ids, strict=True):
        if run_id in published:
            _swap_staged_exports(staging, exports_dir, run_id)
            done.append(f"rolled forward exports of run {run_id}")
        else:
            _remove(staging)
            done.append(f"removed staged exports of run {run_id}")
    return done


# --------------------------------------------------------------------------------------------
# publish


@dataclass(frozen=True)
class PublishResult:
    db_path: Path
    month: str
    rows: dict[str, int]
    exports: dict[str, Path]
    runs_folded: int
    seconds: float
    report: Any = None  # the month's report as the report writer returned it (None: not written)
    report_problem: str | None = None  # why the month has no report (its old one was removed)


# A publish's report writer: (staging warehouse, staging export folder, months) → (month →
# report written under `<staging export folder>/reports/`, month → why it could not be).
ReportWriter = Callable[[Path, Path, list[str]], tuple[Mapping[str, Any], Mapping[str, str]]]


def _stage_reports(writer: ReportWriter, staging: Path, export_staging: Path, months: list[str]
                   ) -> tuple[Mapping[str, Any], dict[str, str]]:
    """The months' reports, written by `writer` from the staging warehouse into the staging
    export folder; a month without one gets a `.removed` marker, so the swap removes its old
    report (it would contradict the month). A writer that fails makes every month reportless,
    never the publish fail."""
    pause_point("report")  # test hook: while the reports are written
    try:
        reports, problems = writer(staging, export_staging, months)
        problems = dict(problems)
    except Exception as error:
        reports, problems = {}, {m: f"{type(error).__name__}: {error}" for m in months}
    folder = export_staging / REPORTS_FOLDER
    for month in months:
        if month not in reports:
            problems.setdefault(month, "no report was written")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{month}.html{REMOVED_SUFFIX}").write_bytes(b"")
    return reports, problems


@functools.cache
def ddl_columns(table: str) -> tuple[tuple[str, str], ...]:
    """(name, type) of every column `sql/<table>.sql` declares, in order, read by running the
    DDL in a private in-memory database."""
    with duckdb.connect(":memory:") as scratch:
        scratch.execute(read_ddl(table))
        return tuple(
            (name, dtype)
            for name, dtype in scratch.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
        )


def add_missing_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Add to the warehouse's `table` every column its DDL declares that the table lacks (an
    additive migration: nullable, no default), and return their names."""
    present = set(_table_columns(con, table))
    added = []
    for name, dtype in ddl_columns(table):
        if name not in present:
            con.execute(f"ALTER TABLE {quoted(table)} ADD COLUMN {quoted(name)} {dtype}")
            added.append(name)
    return added


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        row[0]
        for row in con.sql(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_catalog = 'wh' AND table_name = $t ORDER BY ordinal_position",
            params={"t": table},
        ).fetchall()
    ]


def _replace_month(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, month: str, run_id: str
) -> tuple[int, bool]:
    """Delete the month's rows of `table` and insert `frame` (zero-copy Arrow scan), each row
    tagged with the `run_id` that publishes it. A frame without columns removes the month's
    rows and inserts none. Returns the rows inserted and whether they went in in export order
    (`in_line_order`)."""
    columns = _table_columns(con, table)
    if "month" in columns:
        con.execute(f"DELETE FROM {quoted(table)} WHERE month = ?", [month])
    elif RUN_ID in columns:
        # tables without a month column (rejects) are keyed to the month through runs
        con.execute(
            f"DELETE FROM {quoted(table)} WHERE run_id IN "
            "(SELECT run_id FROM runs WHERE month = ?)",
            [month],
        )
    else:
        raise PublishError(f"table {table} has neither a month nor a run_id column")
    if frame.width == 0:
        return 0, False
    if RUN_ID in columns and RUN_ID not in frame.columns:
        frame = frame.with_columns(pl.lit(run_id, pl.Utf8).alias(RUN_ID))
    unknown = [c for c in frame.columns if c not in columns]
    if unknown:
        raise PublishError(
            f"{table}: columns {unknown} are not in the warehouse table (its columns: {columns}); "
            f"add them to sql/{table}.sql (an existing warehouse takes them at its next publish)"
        )
    view = f"incoming_{table}"
    if max(frame.n_chunks("all"), default=1) > 1:
        # DuckDB writes (and compresses) full row groups while it inserts only when the
        # Arrow batches fill them; the misaligned batches of a multi-chunk frame (one read
        # from Parquet, say) leave partial row groups that CHECKPOINT compresses a second time
        frame = frame.rechunk()
    # Arrow with Polars' own string layout (string views): DuckDB scans it as it is, where the
    # default export would first copy every text column into large_string
    con.register(view, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        con.execute(f"INSERT INTO {quoted(table)} BY NAME SELECT * FROM {quoted(view)}")
    finally:
        con.unregister(view)
    return frame.height, in_line_order(frame, columns)


def _open_staging(staging: Path, new: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for setting in STAGING_SETTINGS:
        con.execute(setting)
    if new:
        con.execute(f"ATTACH ? AS wh (STORAGE_VERSION '{STORAGE_VERSION}')", [str(staging)])
    else:
        con.execute("ATTACH ? AS wh", [str(staging)])
    con.execute("USE wh")
    return con


def publish_month(
    *,
    db_path: Path,
    exports_dir: Path,
    month: str,
    tables: Mapping[str, pl.DataFrame],
    exports: Mapping[str, str],
    run: RunRecord,
    pause: Callable[[str], None] = pause_point,
    reports: ReportWriter | None = None,
) -> PublishResult:
    """Publish one month of every table in `tables` (name -> frame) and the run's `runs` row,
    atomically. `exports` maps table name -> export folder name for the exported tables.
    Folds the journal of failed attempts into `runs`. Call while holding the warehouse lock.
    On any error the live warehouse and exports are unchanged and PublishError is raised."""
    return publish_months(
        db_path=db_path, exports_dir=exports_dir, months={month: tables}, exports=exports,
        runs=[run], pause=pause, reports=reports,
    )[0]


TableSource = pl.DataFrame | Callable[[], pl.DataFrame]


def _write_staging(
    staging: Path,
    new: bool,
    months: Mapping[str, Mapping[str, TableSource]],
    exports: Mapping[str, str],
    export_staging: Path,
    runs_rows: pl.DataFrame,
    rows: dict[str, dict[str, int]],
    staged_exports: dict[str, dict[str, Path]],
    run_ids: Mapping[str, str],
) -> None:
    """Write the months' tables and `runs` rows into the staging warehouse and their exports
    into the staging export folder; `rows` and `staged_exports` receive what was written.
    `run_ids`: month → the run publishing it (every row of the month is tagged with it)."""
    try:
        con = _open_staging(staging, new)
    except duckdb.Error as error:
        # the copy is byte for byte the live file: name the file the user knows
        live = staging.with_name(staging.name.split(STAGING_PREFIX)[0])
        message = str(error).replace(str(staging), str(live))
        raise PublishError(f"the warehouse {live} cannot be opened (it is unchanged): {message}") from error
    exporter = Exporter(con)
    try:
        # One transaction per table: the staging file is only swapped in once every table
        # is written, so the publish stays all-or-nothing, and each commit lets DuckDB
        # write that table's rows out instead of holding the whole month in memory. A
        # committed table's export runs on the exporter's cursor while the next table
        # is inserted.
        names = dict.fromkeys(name for tables in months.values() for name in tables)
        for table in [RUNS_TABLE, *names]:
            con.execute(read_ddl(table))
        for table in [RUNS_TABLE, *names]:
            # a warehouse created before a table gained columns (the contract is extended, never
            # renamed): the new columns are added, NULL for the rows published before
            add_missing_columns(con, table)
        done, total = 0, sum(len(tables) for tables in months.values())
        for month, tables in months.items():
            for table, source in tables.items():
                frame = source() if callable(source) else source
                progress.report(f"publishing {table} ({frame.height:,} rows)", done, total, "tables")
                con.execute("BEGIN TRANSACTION")
                rows[month][table], ordered = _replace_month(con, table, frame, month, run_ids[month])
                con.execute("COMMIT")
                pause_point("staging")  # test hook: the staging warehouse half written
                done += 1
                del frame
                if table in exports:
                    export = exports[table]
                    target = export_month_dir(export_staging, export, month)
                    staged_exports[month][export] = target / PARQUET_FILE
                    exporter.submit(
                        functools.partial(
                            exports_module.export_month, table=table, month=month, target=target, in_order=ordered
                        )
                    )
        con.execute("BEGIN TRANSACTION")
        con.register("incoming_runs", runs_rows)
        try:
            con.execute(
                "INSERT INTO runs BY NAME SELECT * FROM incoming_runs "
                "WHERE run_id NOT IN (SELECT run_id FROM runs)"
            )
        finally:
            con.unregister("incoming_runs")
        con.execute("COMMIT")
        exporter.wait()
        con.execute("CHECKPOINT")
        for month, tables in months.items():  # in the order of `exports`, as before
            staged_exports[month] = {
                exports[t]: staged_exports[month][exports[t]] for t in exports if t in tables
            }
    except BaseException:
        exporter.abort()
        raise
    finally:
        exporter.close()
        con.close()


def publish_months(
    *,
    db_path: Path,
    exports_dir: Path,
    months: Mapping[str, Mapping[str, TableSource]],
    exports: Mapping[str, str],
    runs: Sequence[RunRecord],
    pause: Callable[[str], None] = pause_point,
    reports: ReportWriter | None = None,
) -> list[PublishResult]:
    """Publish several months (month -> table name -> frame) and their `runs` rows in ONE
    swap of the warehouse: all months or none. A table may be given as a zero-argument
    callable returning its frame; it is called when its turn comes, so a long backfill never
    holds every month in memory at once. Exports are staged under
    `<exports>/.staging-<first run_id>/` and swapped in after the warehouse swap. With
    `reports`, each month's report is written from the staging warehouse into the staging
    area and swapped in with the exports (a month without one loses its old report). Same
    guarantees as `publish_month` (which is this function for one month)."""
    started = time.perf_counter()
    if not months or not runs:
        raise PublishError("nothing to publish: no month or no run record given")
    db_path = Path(db_path)
    exports_dir = Path(exports_dir)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    key = runs[0].run_id
    staging = staging_db_path(db_path, key)
    export_staging = exports_dir / f"{STAGING_PREFIX}{key}"
    own = {r.run_id for r in runs}
    journaled = [r for r in read_journal(db_path) if r.run_id not in own]
    runs_rows = runs_frame([*journaled, *runs])
    rows: dict[str, dict[str, int]] = {month: {} for month in months}
    staged_exports: dict[str, dict[str, Path]] = {month: {} for month in months}
    swapped = False
    try:
        _remove(staging)
        _remove(export_staging)
        new = not db_path.exists()
        if not new:
            shutil.copyfile(db_path, staging)
            wal = db_path.with_name(db_path.name + ".wal")
            if wal.exists():
                shutil.copyfile(wal, staging.with_name(staging.name + ".wal"))
        _write_staging(staging, new, months, exports, export_staging, runs_rows, rows, staged_exports,
                       {r.month: r.run_id for r in runs})
        _fsync_path(staging)
        written, report_problems = (
            _stage_reports(reports, staging, export_staging, list(months)) if reports is not None else ({}, {})
        )
        if export_staging.exists():
            _fsync_tree(export_staging)
        pause("publish")
        os.replace(staging, db_path)
        swapped = True
        _fsync_path(db_path.parent)
    except BaseException as error:
        if swapped:  # interrupted after the swap: the next run rolls the staged exports forward
            raise
        _remove(staging)
        _remove(staging.with_name(staging.name + ".wal"))
        _remove(export_staging)
        if isinstance(error, Exception) and not isinstance(error, PublishError):
            where = ", ".join(months)
            raise PublishError(f"publishing {where} to {db_path} failed: {error}") from error
        raise
    # The warehouse now holds the run; from here a crash is rolled forward by clean_leftovers.
    pause("swapped")
    if export_staging.exists():
        _swap_staged_exports(export_staging, exports_dir, key)
    # every journal entry is now in `runs` (folded above, or this run's own rows)
    _remove(journal_path(db_path))
    seconds = time.perf_counter() - started
    return [
        PublishResult(
            db_path=db_path,
            month=month,
            rows=rows[month],
            exports={
                export: export_month_dir(exports_dir, export, month) / PARQUET_FILE
                for export in staged_exports[month]
            },
            runs_folded=len(journaled),
            seconds=seconds,
            report=written.get(month),
            report_problem=report_problems.get(month),
        )
        for month in months
    ]
