"""Safe publishing: one month of every mart into the warehouse and the Parquet exports, all or
nothing, while readers keep reading, at a cost that follows the month.

Warehouse: each table's month is written as a new segment file of the store
(flows/warehouse/store.py, `<db>.d/<table>/<YYYY-MM>/<run_id>.parquet`); a new catalog file
(flows/warehouse/catalog.py: `runs`, the views over every segment, the store's bookkeeping) is
written beside the live one, fsynced, and swapped in with `os.replace`. Nothing of the live
warehouse is copied or rewritten: a month published into a ten-year warehouse writes that
month. A reader holding the old catalog keeps its snapshot: the segments it lists are kept
(replaced ones retired, deleted only after `TARIFFCOST_RETIRED_HOURS`).

Exports: the month's segment file IS the month's export (same columns, `year` and `period`
inside), hard-linked (or copied, across file systems) under `<exports>/.staging-<run_id>/`,
then swapped into `<exports>/<export>/year=YYYY/month=M/` by renames (old folder renamed
away, new one renamed in, old one deleted); no other month is touched.

Journal: attempts that publish nothing (failed, or killed mid-run) are appended to
`<db>.runs.jsonl`, never to the warehouse, so a failed run leaves it byte-identical. The next
successful publish folds the journal into `runs` and removes it.

Leftovers of a killed run (staging catalogs, segment files no catalog lists, staging and trash
export folders) are cleaned by `clean_leftovers`, which the next run calls while holding the
warehouse lock. A staging export folder whose run reached the warehouse (its run_id is in
`runs` as success) is rolled forward instead of deleted, so the exports always end up
matching the warehouse.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from flows import progress
from flows.warehouse.catalog import (
    LIVE,
    STORAGE_VERSION,
    CatalogState,
    attach_live,
    build_catalog,
    convert_legacy,
    read_state,
)
from flows.warehouse.exports import PARQUET_FILE, export_month_dir
from flows.warehouse.journal import RunRecord, journal_path, read_journal, runs_frame, utc_now
from flows.warehouse.reader import store_path
from flows.warehouse.recovery import (
    REMOVED_SUFFIX,
    REPORTS_FOLDER,
    STAGING_PREFIX,
    clean_leftovers,
    remove_path,
    staging_db_path,
    swap_staged_exports,
)
from flows.warehouse.store import (
    PublishError,
    Segment,
    ddl_columns,
    expired,
    fsync_files,
    fsync_path,
    link_or_copy,
    read_ddl,
    remove_files,
    write_segment,
)
from flows.warehouse.testing import pause_point

# Settings of the publishing connection. FSST (one of the string compressions DuckDB tries on
# every string segment it writes) is left out of the catalog, which holds only small tables.
# The segments are written by Polars from the marts' own columns (store.write_segment); the
# DuckDB working memory of this connection (converting a warehouse from before the store: the
# sort of each legacy month) is capped, a sort larger than that spilling to
# `<db>.staging-<run_id>.tmp/` (removed after the publish, or by the next run's clean-up after
# a kill): the marts themselves are the month's memory.
STAGING_SETTINGS = ("SET disabled_compression_methods = 'fsst'", "SET memory_limit = '1GB'")
SPILL_SUFFIX = ".tmp"

__all__ = [
    "STORAGE_VERSION", "PublishError", "PublishResult", "ReportWriter", "clean_leftovers", "ddl_columns",
    "publish_month", "publish_months", "read_ddl", "staging_db_path",
]


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
    bytes_written: int = 0  # segment bytes this publish wrote (the month's, never the warehouse's)


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


@dataclass
class _Publish:
    """One publish in progress: where it writes and what it has written so far (so that a
    failure before the swap removes exactly its own files)."""

    db_path: Path
    exports_dir: Path
    key: str
    store: Path
    staging: Path
    export_staging: Path
    new_files: list[Path]
    rows: dict[str, dict[str, int]]
    staged_exports: dict[str, dict[str, Path]]


def _write_months(
    job: _Publish,
    months: Mapping[str, Mapping[str, TableSource]],
    exports: Mapping[str, str],
    run_ids: Mapping[str, str],
) -> tuple[list[Segment], set[tuple[str, str]], list[str]]:
    """Write a segment per (month, table), link the exported ones into the
    staging export folder. Returns (new segments, every (table, month) replaced, tables)."""
    segments: list[Segment] = []
    replaced: set[tuple[str, str]] = set()
    names = list(dict.fromkeys(name for tables in months.values() for name in tables))
    for name in names:
        read_ddl(name)  # a table without DDL fails before anything is written
    done, total = 0, sum(len(tables) for tables in months.values())
    for month, tables in months.items():
        for table, source in tables.items():
            frame = source() if callable(source) else source
            progress.report(f"publishing {table} ({frame.height:,} rows)", done, total, "tables")
            replaced.add((table, month))
            if frame.width == 0:  # the table's month removed: published empty, export included
                first = ddl_columns(table)[0][0]
                frame = pl.DataFrame({first: pl.Series([], dtype=pl.Utf8)})
            segment = write_segment(job.store, table, frame, month, run_ids[month])
            path = segment.path(job.store)
            job.new_files.append(path)
            segments.append(segment)
            job.rows[month][table] = segment.row_count
            if table in exports:
                target = export_month_dir(job.export_staging, exports[table], month) / PARQUET_FILE
                link_or_copy(path, target)
                job.staged_exports[month][exports[table]] = target
            del frame
            done += 1
            pause_point("staging")  # test hook: the month half written
    for month, tables in months.items():  # in the order of `exports`
        job.staged_exports[month] = {
            exports[t]: job.staged_exports[month][exports[t]]
            for t in exports if t in tables and exports[t] in job.staged_exports[month]
        }
    return segments, replaced, names


def _next_catalog(
    state: CatalogState, new: list[Segment], replaced: set[tuple[str, str]], names: list[str], converted: list[Segment]
) -> tuple[list[Segment], list[tuple[Segment, Any]], list[Segment], list[str]]:
    """(segments, retired, expired segments to delete after the swap, tables) of the catalog
    after this publish: the months it replaces are retired, retired files past their time
    are dropped (deleted once the new catalog is live)."""
    now = utc_now()
    live = [*state.segments, *converted]
    kept = [s for s in live if (s.table_name, s.period) not in replaced]
    retired_now = [(s, now) for s in live if (s.table_name, s.period) in replaced and s not in converted]
    still = [(s, at) for s, at in state.retired if not expired(at, now)]
    gone = [s for s, at in state.retired if expired(at, now)]
    # a converted warehouse's segments replaced in the same publish were never live: gone now
    gone += [s for s in converted if (s.table_name, s.period) in replaced]
    tables = list(dict.fromkeys([*state.tables, *names]))
    return [*kept, *new], [*still, *retired_now], gone, tables


def _build(job: _Publish, months: Mapping[str, Mapping[str, TableSource]], exports: Mapping[str, str],
           runs_rows: pl.DataFrame, run_ids: Mapping[str, str]) -> list[Segment]:
    """Write the months' segments and the staging catalog; returns the segments to delete
    once the new catalog is live."""
    con = duckdb.connect()
    try:
        for setting in STAGING_SETTINGS:
            con.execute(setting)
        con.execute("SET temp_directory = ?", [str(_spill_path(job))])
        attached = attach_live(con, job.db_path)
        state = read_state(con, attached, job.db_path, job.store)
        converted = convert_legacy(con, state, job.store, job.key) if state.legacy else []
        job.new_files.extend(s.path(job.store) for s in converted)
        new, replaced, names = _write_months(job, months, exports, run_ids)
        segments, retired, gone, tables = _next_catalog(state, new, replaced, names, converted)
        build_catalog(con, job.staging, live_runs=state.has_runs, incoming_runs=runs_rows,
                      segments=segments, retired=retired, tables=tables, store=job.store)
        if attached:
            con.execute(f"DETACH {LIVE}")
    finally:
        con.close()
        remove_path(_spill_path(job))
    return gone


def _spill_path(job: _Publish) -> Path:
    return job.staging.with_name(job.staging.name + SPILL_SUFFIX)


def _bytes_of(paths: Sequence[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


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
    holds every month in memory at once. A frame without columns publishes the table's month
    empty (its old rows removed, its export an empty file of the table's columns).
    Exports are staged under `<exports>/.staging-<first run_id>/` and swapped in after the
    warehouse swap. With `reports`, each month's report is written from the staging warehouse
    into the staging area and swapped in with the exports (a month without one loses its old
    report). Same guarantees as `publish_month` (which is this function for one month)."""
    started = time.perf_counter()
    if not months or not runs:
        raise PublishError("nothing to publish: no month or no run record given")
    db_path, exports_dir = Path(db_path), Path(exports_dir)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    key = runs[0].run_id
    job = _Publish(
        db_path=db_path, exports_dir=exports_dir, key=key, store=store_path(db_path),
        staging=staging_db_path(db_path, key), export_staging=exports_dir / f"{STAGING_PREFIX}{key}",
        new_files=[], rows={m: {} for m in months}, staged_exports={m: {} for m in months},
    )
    own = {r.run_id for r in runs}
    journaled = [r for r in read_journal(db_path) if r.run_id not in own]
    gone, written, report_problems = _stage_and_swap(
        job, months, exports, runs_frame([*journaled, *runs]), {r.month: r.run_id for r in runs}, pause, reports
    )
    # The warehouse now holds the run; from here a crash is rolled forward by clean_leftovers.
    pause("swapped")
    remove_files([s.path(job.store) for s in gone], job.store)
    if job.export_staging.exists():
        swap_staged_exports(job.export_staging, exports_dir, key)
    # every journal entry is now in `runs` (folded above, or this run's own rows)
    remove_path(journal_path(db_path))
    seconds, written_bytes = time.perf_counter() - started, _bytes_of(job.new_files)
    return [
        PublishResult(
            db_path=db_path,
            month=month,
            rows=job.rows[month],
            exports={
                export: export_month_dir(exports_dir, export, month) / PARQUET_FILE
                for export in job.staged_exports[month]
            },
            runs_folded=len(journaled),
            seconds=seconds,
            report=written.get(month),
            report_problem=report_problems.get(month),
            bytes_written=written_bytes,
        )
        for month in months
    ]


def _stage_and_swap(
    job: _Publish,
    months: Mapping[str, Mapping[str, TableSource]],
    exports: Mapping[str, str],
    runs_rows: pl.DataFrame,
    run_ids: Mapping[str, str],
    pause: Callable[[str], None],
    reports: ReportWriter | None,
) -> tuple[list[Segment], Mapping[str, Any], Mapping[str, str]]:
    """Everything up to and including the catalog swap: the segments and the staging catalog,
    fsynced, the reports staged, then `os.replace`. Before the swap any failure removes what
    this publish wrote and raises PublishError; returns (segments to delete now, reports,
    report problems)."""
    swapped = False
    try:
        remove_path(job.staging)
        remove_path(job.export_staging)
        gone = _build(job, months, exports, runs_rows, run_ids)
        fsync_files([*job.new_files, job.staging], job.store if job.new_files else job.db_path.parent)
        written, report_problems = (
            _stage_reports(reports, job.staging, job.export_staging, list(months)) if reports is not None else ({}, {})
        )
        if job.export_staging.exists():
            fsync_files([p for p in job.export_staging.rglob("*") if p.is_file()], job.export_staging)
        pause("publish")
        os.replace(job.staging, job.db_path)
        swapped = True
        fsync_path(job.db_path.parent)
    except BaseException as error:
        if swapped:  # interrupted after the swap: the next run rolls the staged exports forward
            raise
        remove_path(job.staging)
        remove_path(job.staging.with_name(job.staging.name + ".wal"))
        remove_path(job.export_staging)
        remove_files(job.new_files, job.store)
        if isinstance(error, Exception) and not isinstance(error, PublishError):
            raise PublishError(f"publishing {', '.join(months)} to {job.db_path} failed: {error}") from error
        raise
    return gone, written, report_problems
