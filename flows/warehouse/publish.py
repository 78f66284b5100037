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

import dataclasses
import datetime as dt
import functools
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from schemas.runs import SCHEMA as RUNS_SCHEMA
from transforms.order import is_in_order

# Storage format of a NEW warehouse file: readable by every DuckDB 1.x (and 2.x) client.
# An existing warehouse keeps the storage version it was created with (DuckDB cannot lower it).
STORAGE_VERSION = "v1.0.0"
RUNS_TABLE = "runs"
RUN_ID = "run_id"  # every published row names the run that wrote it
STAGING_PREFIX = ".staging-"
TRASH_PREFIX = ".trash-"
PARQUET_FILE = "part-0.parquet"

# Settings of the staging connection. FSST is one of the string compressions DuckDB tries on
# every string segment it writes; leaving it out makes the month's insert ~12% cheaper in CPU
# for a warehouse 1-8% larger (dictionary compression does the rest). Only how the new rows
# are stored changes, never what they hold.
STAGING_SETTINGS = ("SET disabled_compression_methods = 'fsst'",)
# Parquet writer options of the exports: zstd level 1 (smaller than the default level on our
# marts, and faster); a dictionary is kept only for columns with at most 4,096 distinct values
# in a row group, so high-cardinality columns (amounts, entry numbers) go plain at once
# instead of after filling a large dictionary. Encodings only: same columns, types and rows.
EXPORT_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, DICTIONARY_SIZE_LIMIT 4096"

# Test hook: TARIFFCOST_TEST_PAUSE_AT=<point> makes the run stop at that point (after touching
# TARIFFCOST_TEST_PAUSE_FILE, if set) for TARIFFCOST_TEST_PAUSE_SECONDS, so kill -9 tests can
# kill it there. Points: "compute" (before the marts are built), "publish" (staging warehouse
# and staged exports written, just before the swap).
PAUSE_ENV = "TARIFFCOST_TEST_PAUSE_AT"
PAUSE_FILE_ENV = "TARIFFCOST_TEST_PAUSE_FILE"
PAUSE_SECONDS_ENV = "TARIFFCOST_TEST_PAUSE_SECONDS"


class PublishError(RuntimeError):
    """Publishing failed; the live warehouse and exports are unchanged."""


def pause_point(name: str) -> None:
    """Sleep here when the test hook names this point (see PAUSE_ENV)."""
    if os.environ.get(PAUSE_ENV) != name:
        return
    marker = os.environ.get(PAUSE_FILE_ENV)
    if marker:
        Path(marker).write_text(f"{os.getpid()} {name}\n")
    time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "60")))


def utc_now() -> dt.datetime:
    """Now in UTC, naive (the warehouse stores UTC TIMESTAMPs), microsecond precision."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------------------------
# runs rows and the journal


@dataclass(frozen=True)
class RunRecord:
    """One `runs` row: one attempt at one month."""

    run_id: str
    month: str
    started_at: dt.datetime
    status: str
    finished_at: dt.datetime | None = None
    rows_in: int | None = None
    rows_rejected: int | None = None
    rows_published: int | None = None
    tables_published: dict[str, int] = field(default_factory=dict)
    schedule_version: str | None = None
    schedule_source: str | None = None
    input_checksums: dict[str, dict] = field(default_factory=dict)
    stage_timings: dict[str, float] = field(default_factory=dict)
    error_message: str | None = None
    scenarios: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        row = dataclasses.asdict(self)
        for key in ("started_at", "finished_at"):
            row[key] = row[key].isoformat() if row[key] is not None else None
        return row

    @classmethod
    def from_json(cls, row: dict) -> RunRecord:
        values = dict(row)
        for key in ("started_at", "finished_at"):
            values[key] = dt.datetime.fromisoformat(values[key]) if values.get(key) else None
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def replace(self, **changes) -> RunRecord:
        return dataclasses.replace(self, **changes)


def _json_text(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def runs_frame(records: list[RunRecord]) -> pl.DataFrame:
    """`runs` rows as a frame of the runs schema (JSON columns as text)."""
    rows = [
        {
            "run_id": r.run_id,
            "month": r.month,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "status": r.status,
            "rows_in": r.rows_in,
            "rows_rejected": r.rows_rejected,
            "rows_published": r.rows_published,
            "tables_published": _json_text(r.tables_published),
            "schedule_version": r.schedule_version,
            "schedule_source": r.schedule_source,
            "input_checksums": _json_text(r.input_checksums),
            "stage_timings": _json_text(r.stage_timings),
            "error_message": r.error_message,
            "scenarios": _json_text(r.scenarios),
            "warnings": _json_text(r.warnings),
        }
        for r in records
    ]
    schema = {
        name: column.dtype.type for name, column in RUNS_SCHEMA.columns.items()
    }
    return RUNS_SCHEMA.validate(pl.DataFrame(rows, schema=schema))


def journal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".runs.jsonl")


def append_journal(db_path: Path, record: RunRecord) -> None:
    """Append one attempt to the journal beside the warehouse (durably: fsync)."""
    path = journal_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record.to_json(), sort_keys=True, default=str) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def bad_journal_path(db_path: Path) -> Path:
    """Where journal lines that cannot be read are moved (`<db>.runs.jsonl.bad`)."""
    path = journal_path(db_path)
    return path.with_name(path.name + ".bad")


def _journal_entry(raw: bytes) -> RunRecord:
    """One journal line as a record that `runs` accepts; ValueError saying why not."""
    try:
        row = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})") from None
    except ValueError as error:
        raise ValueError(f"not JSON ({error})") from None
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    try:
        record = RunRecord.from_json(row)
    except (TypeError, ValueError) as error:
        raise ValueError(f"not a run record ({error})") from None
    try:  # the checks of `runs` itself (types, month, status), as it would be folded in
        runs_frame([record.replace(status="abandoned") if record.status == "running" else record])
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"not a valid runs row ({first})") from None
    return record


def _journal_lines(db_path: Path) -> list[tuple[int, bytes, RunRecord | str]]:
    """(line number, raw bytes, record or the reason it cannot be read) of every non-blank line."""
    path = journal_path(db_path)
    if not path.exists():
        return []
    found: list[tuple[int, bytes, RunRecord | str]] = []
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            found.append((number, raw, _journal_entry(raw)))
        except ValueError as error:
            found.append((number, raw, str(error)))
    return found


def quarantine_journal(db_path: Path) -> list[str]:
    """Move every journal line that cannot be read as a `runs` row (wrong type, bad month,
    not UTF-8, torn by a kill) to `<db>.runs.jsonl.bad`, keeping the others; one warning per
    line moved, naming the file and the line. Call only while holding the warehouse lock."""
    lines = _journal_lines(db_path)
    bad = [(number, raw, reason) for number, raw, reason in lines if isinstance(reason, str)]
    if not bad:
        return []
    path, aside = journal_path(db_path), bad_journal_path(db_path)
    fd = os.open(aside, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"".join(raw + b"\n" for _, raw, _ in bad))
        os.fsync(fd)
    finally:
        os.close(fd)
    kept = path.with_name(path.name + ".tmp")
    kept.write_bytes(b"".join(raw + b"\n" for _, raw, entry in lines if not isinstance(entry, str)))
    _fsync_path(kept)
    os.replace(kept, path)
    _fsync_path(path.parent)
    return [f"{path}: line {number} cannot be read, moved to {aside}: {reason}" for number, _, reason in bad]


def read_journal(db_path: Path) -> list[RunRecord]:
    """Journaled attempts, the last entry of each run_id winning. An attempt whose last entry
    is still `running` was killed: it comes back as `abandoned` (readers call this only while
    holding the warehouse lock, so no live run can be in the journal). A line that cannot be
    read as a `runs` row (`quarantine_journal` moves those aside) is skipped, so it never
    blocks a publish."""
    latest: dict[str, RunRecord] = {}
    for _number, _raw, record in _journal_lines(db_path):
        if isinstance(record, RunRecord):
            latest[record.run_id] = record
    return [
        r.replace(status="abandoned", error_message=r.error_message or "the run was killed")
        if r.status == "running"
        else r
        for r in latest.values()
    ]


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


def month_partition(month: str) -> tuple[int, int]:
    year, number = month.split("-")
    return int(year), int(number)


def export_month_dir(root: Path, export: str, month: str) -> Path:
    year, number = month_partition(month)
    return root / export / f"year={year}" / f"month={number}"


# --------------------------------------------------------------------------------------------
# clean-up of killed runs


def _published_run_ids(db_path: Path, run_ids: list[str]) -> set[str]:
    if not run_ids or not db_path.exists():
        return set()
    con = duckdb.connect(str(db_path), read_only=True)
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


def _swap_staged_exports(staging: Path, exports_dir: Path, run_id: str) -> None:
    trash_root = exports_dir / f"{TRASH_PREFIX}{run_id}"
    for staged, relative in _staged_months(staging):
        _swap_in(staged, exports_dir / relative, trash_root / relative)
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


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        row[0]
        for row in con.sql(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_catalog = 'wh' AND table_name = $t ORDER BY ordinal_position",
            params={"t": table},
        ).fetchall()
    ]


def _quoted(name: str) -> str:
    """An identifier for SQL text. Table names come from the mart registry, never from data;
    this also rejects anything but [a-z0-9_] so no value can reach the SQL text."""
    if not name.replace("_", "").isalnum() or not name.isascii() or name != name.lower():
        raise PublishError(f"invalid table name {name!r}")
    return f'"{name}"'


def _replace_month(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, month: str, run_id: str
) -> tuple[int, bool]:
    """Delete the month's rows of `table` and insert `frame` (zero-copy Arrow scan), each row
    tagged with the `run_id` that publishes it. A frame without columns removes the month's
    rows and inserts none. Returns the rows inserted and whether they went in in export order
    (`in_line_order`)."""
    columns = _table_columns(con, table)
    if "month" in columns:
        con.execute(f"DELETE FROM {_quoted(table)} WHERE month = ?", [month])
    elif "run_id" in columns:
        # tables without a month column (rejects) are keyed to the month through runs
        con.execute(
            f"DELETE FROM {_quoted(table)} WHERE run_id IN "
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
            f"add them to sql/{table}.sql, and to an existing warehouse with ALTER TABLE"
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
        con.execute(f"INSERT INTO {_quoted(table)} BY NAME SELECT * FROM {_quoted(view)}")
    finally:
        con.unregister(view)
    return frame.height, in_line_order(frame, columns)


LINE_GRAIN = ("entry_number", "line_number")


def in_line_order(frame: pl.DataFrame, table_columns: Sequence[str]) -> bool:
    """True when `ORDER BY ALL` over the table's columns would give `frame`'s own row order:
    the table starts with the line grain (entry_number, line_number) and the frame's rows are
    strictly increasing on it (so the grain is unique and later columns never break a tie).
    Text compares byte-wise in both Polars and DuckDB."""
    if tuple(table_columns[:2]) != LINE_GRAIN or not set(LINE_GRAIN) <= set(frame.columns):
        return False
    return is_in_order(frame, LINE_GRAIN, strict=True)


def _export_month(
    con: duckdb.DuckDBPyConnection, table: str, month: str, target: Path, in_order: bool = False
) -> Path:
    """Write the month of `table` to `target/part-0.parquet`: the table's columns with the
    partition values inside the file (`year`, and `month` as the partition's integer), rows in
    a stable order (ORDER BY ALL), one schema for every month.

    in_order: the month's rows were inserted in ORDER BY ALL order (`in_line_order`); DuckDB
    keeps insertion order in a scan (preserve_insertion_order), so the rows are streamed to
    the file instead of sorted again, which would hold the whole month in memory."""
    year, number = month_partition(month)
    target.mkdir(parents=True, exist_ok=True)
    path = target / PARQUET_FILE
    # DuckDB writes the file itself (in parallel, without handing the rows to Python); the
    # path is a parameter, the table name a checked identifier
    con.execute(
        f"COPY (SELECT * REPLACE (CAST($number AS INTEGER) AS month), CAST($year AS INTEGER) AS year "
        f"FROM {_quoted(table)} WHERE month = $month{'' if in_order else ' ORDER BY ALL'}) TO $path "
        f"({EXPORT_OPTIONS})",
        {"number": number, "year": year, "month": month, "path": str(path)},
    )
    return path


class _Exporter:
    """Writes exports on a second cursor of the staging connection, in a thread of its own, in
    the order they are queued: each reads a table whose transaction is committed while the
    main cursor goes on inserting the next tables (MVCC: the two never see each other's
    uncommitted rows). Both queries share DuckDB's thread pool."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._cursor = con.cursor()
        self._cursor.execute("USE wh")  # a cursor starts in the default (memory) catalog
        self._jobs: list[Callable[[duckdb.DuckDBPyConnection], object]] = []
        self._ready = threading.Condition()
        self._closed = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="publish-exports", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._jobs and not self._closed:
                    self._ready.wait()
                if not self._jobs:
                    return
                job = self._jobs.pop(0)
            try:
                job(self._cursor)
            except BaseException as error:  # handed to the main thread by wait()
                with self._ready:
                    self._error = self._error or error
                    self._jobs.clear()
                    self._closed = True
                return

    def submit(self, job: Callable[[duckdb.DuckDBPyConnection], object]) -> None:
        with self._ready:
            if self._error is not None:
                raise self._error
            self._jobs.append(job)
            self._ready.notify()

    def wait(self) -> None:
        """Run every queued export to its end; raise the first export error."""
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Drop the queued exports, interrupt the running one and wait for the thread."""
        with self._ready:
            self._jobs.clear()
            self._closed = True
            self._ready.notify()
        if self._thread.is_alive():
            self._cursor.interrupt()
        self._thread.join()

    def close(self) -> None:
        self._cursor.close()


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
) -> PublishResult:
    """Publish one month of every table in `tables` (name -> frame) and the run's `runs` row,
    atomically. `exports` maps table name -> export folder name for the exported tables.
    Folds the journal of failed attempts into `runs`. Call while holding the warehouse lock.
    On any error the live warehouse and exports are unchanged and PublishError is raised."""
    return publish_months(
        db_path=db_path, exports_dir=exports_dir, months={month: tables}, exports=exports,
        runs=[run], pause=pause,
    )[0]


TableSource = pl.DataFrame | Callable[[], pl.DataFrame]


def publish_months(
    *,
    db_path: Path,
    exports_dir: Path,
    months: Mapping[str, Mapping[str, TableSource]],
    exports: Mapping[str, str],
    runs: Sequence[RunRecord],
    pause: Callable[[str], None] = pause_point,
) -> list[PublishResult]:
    """Publish several months (month -> table name -> frame) and their `runs` rows in ONE
    swap of the warehouse: all months or none. A table may be given as a zero-argument
    callable returning its frame; it is called when its turn comes, so a long backfill never
    holds every month in memory at once. Exports are staged under
    `<exports>/.staging-<first run_id>/` and swapped in after the warehouse swap. Same
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
    try:
        _remove(staging)
        _remove(export_staging)
        new = not db_path.exists()
        if not new:
            shutil.copyfile(db_path, staging)
            wal = db_path.with_name(db_path.name + ".wal")
            if wal.exists():
                shutil.copyfile(wal, staging.with_name(staging.name + ".wal"))
        try:
            con = _open_staging(staging, new)
        except duckdb.Error as error:
            # the copy is byte for byte the live file: name the file the user knows
            message = str(error).replace(str(staging), str(db_path))
            raise PublishError(
                f"the warehouse {db_path} cannot be opened (it is unchanged): {message}"
            ) from error
        exporter = _Exporter(con)
        try:
            # One transaction per table: the staging file is only swapped in once every table
            # is written, so the publish stays all-or-nothing, and each commit lets DuckDB
            # write that table's rows out instead of holding the whole month in memory. A
            # committed table's export runs on the exporter's cursor while the next table
            # is inserted.
            names = dict.fromkeys(name for tables in months.values() for name in tables)
            for table in [RUNS_TABLE, *names]:
                con.execute(read_ddl(table))
            for table in names:
                # a warehouse created before marts carried their run: the column is added
                # (NULL for the rows published before)
                con.execute(f"ALTER TABLE {_quoted(table)} ADD COLUMN IF NOT EXISTS {RUN_ID} VARCHAR")
            run_ids = {r.month: r.run_id for r in runs}
            for month, tables in months.items():
                for table, source in tables.items():
                    frame = source() if callable(source) else source
                    con.execute("BEGIN TRANSACTION")
                    rows[month][table], ordered = _replace_month(con, table, frame, month, run_ids.get(month, key))
                    con.execute("COMMIT")
                    del frame
                    if table in exports:
                        export = exports[table]
                        target = export_month_dir(export_staging, export, month)
                        staged_exports[month][export] = target / PARQUET_FILE
                        exporter.submit(
                            functools.partial(_export_month, table=table, month=month, target=target, in_order=ordered)
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
        _fsync_path(staging)
        if export_staging.exists():
            _fsync_tree(export_staging)
        pause("publish")
        os.replace(staging, db_path)
        _fsync_path(db_path.parent)
    except BaseException as error:
        _remove(staging)
        _remove(staging.with_name(staging.name + ".wal"))
        _remove(export_staging)
        if isinstance(error, Exception) and not isinstance(error, PublishError):
            where = ", ".join(months)
            raise PublishError(f"publishing {where} to {db_path} failed: {error}") from error
        raise
    # The warehouse now holds the run; from here a crash is rolled forward by clean_leftovers.
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
        )
        for month in months
    ]
