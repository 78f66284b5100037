"""The segment store: every published (table, month) is one immutable Parquet file, and the
warehouse's tables are views over those files.

A publish writes only the month it publishes: one new file per table under
`<db>.d/<table>/<YYYY-MM>/<run_id>.parquet` (never overwritten: a re-run writes a file of its
own name), then a new catalog (flows/warehouse/catalog.py) whose views list the files of every
month, swapped in by `os.replace`. Cost follows the month, not the warehouse.

A segment file holds exactly what the month's Parquet export holds (the table's columns as its
DDL declares them, `month` as the month's number, then `year` and `period`), so the export is
the same file, hard-linked into the export folder (copied where the export folder is on
another file system). A view reads `period` back as the warehouse's `month` (`YYYY-MM`);
columns a segment lacks (written before the contract gained them) read as NULL.

A replaced segment is retired, not deleted: a reader that opened the warehouse before the
publish keeps reading it. Retired files are deleted by the first publish after
`TARIFFCOST_RETIRED_HOURS` (default 24) hours.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import os
import re
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from flows.warehouse.exports import EXPORT_OPTIONS, SEGMENT_WRITE_OPTIONS, in_line_order, month_partition, quoted
from transforms.order import is_in_order

RUN_ID = "run_id"  # every published row names the run that wrote it
PARTITION_COLUMNS = ("year", "period")  # after the table's columns, in tables with a month
RETIRED_HOURS_ENV = "TARIFFCOST_RETIRED_HOURS"
DEFAULT_RETIRED_HOURS = 24.0


class PublishError(RuntimeError):
    """Publishing failed; the live warehouse and exports are unchanged."""


def read_ddl(table: str) -> str:
    """The DDL of `table`, from `sql/<table>.sql` (importlib.resources)."""
    resource = resources.files("sql").joinpath(f"{table}.sql")
    if not resource.is_file():
        raise PublishError(f"no DDL for table {table!r}: sql/{table}.sql is missing")
    return resource.read_text(encoding="utf-8")


@functools.cache
def _scratch() -> duckdb.DuckDBPyConnection:
    """One private in-memory database per process, where DDL is run to read its columns (a
    database per table cost 30 ms each)."""
    return duckdb.connect(":memory:")


_SCRATCH_LOCK = threading.Lock()


@functools.cache
def ddl_columns(table: str) -> tuple[tuple[str, str], ...]:
    """(name, type) of every column `sql/<table>.sql` declares, in order, read by running the
    DDL in a private in-memory database."""
    with _SCRATCH_LOCK:
        scratch = _scratch().cursor()
        try:
            scratch.execute(read_ddl(table))
            return tuple(
                (name, dtype)
                for name, dtype in scratch.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = ? ORDER BY ordinal_position",
                    [table],
                ).fetchall()
            )
        finally:
            scratch.close()


def has_month(table: str) -> bool:
    return any(name == "month" for name, _ in ddl_columns(table))


def retired_hours() -> float:
    """How long a replaced segment is kept for the readers that still see it."""
    text = os.environ.get(RETIRED_HOURS_ENV, "").strip()
    try:
        return max(float(text), 0.0) if text else DEFAULT_RETIRED_HOURS
    except ValueError:
        return DEFAULT_RETIRED_HOURS


@dataclass(frozen=True)
class Segment:
    """One file of the store: the rows of `table` for `period` (a month; None for rows of a
    table without a month that could not be dated) written by run `written_by`."""

    table_name: str
    period: str | None
    written_by: str
    file: str  # relative to the store folder, '/'-separated
    row_count: int
    column_names: tuple[str, ...]

    def path(self, store: Path) -> Path:
        return store / self.file


SEGMENT_SCHEMA = {
    "table_name": pl.Utf8,
    "period": pl.Utf8,
    "written_by": pl.Utf8,
    "file": pl.Utf8,
    "row_count": pl.Int64,
    "column_names": pl.List(pl.Utf8),
}


def segments_frame(segments: Sequence[Segment]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (s.table_name, s.period, s.written_by, s.file, s.row_count, list(s.column_names))
            for s in segments
        ],
        schema=SEGMENT_SCHEMA,
        orient="row",
    )


def segments_of(frame: pl.DataFrame) -> list[Segment]:
    return [
        Segment(r["table_name"], r["period"], r["written_by"], r["file"], r["row_count"], tuple(r["column_names"]))
        for r in frame.iter_rows(named=True)
    ]


def segment_file(store: Path, table: str, period: str | None, run_id: str) -> str:
    """The relative path of a new segment: named after the run, never an existing file's name
    (a publish retried after its swap writes `<run_id>~2.parquet`, so no live file is ever
    written over)."""
    safe_run = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    folder = f"{table}/{period or 'undated'}"
    name, attempt = f"{safe_run}.parquet", 1
    while (store / folder / name).exists():
        attempt += 1
        name = f"{safe_run}~{attempt}.parquet"
    return f"{folder}/{name}"


# --------------------------------------------------------------------------------------------
# writing segments


def _check_frame(table: str, frame: pl.DataFrame, month: str) -> None:
    declared = {name for name, _ in ddl_columns(table)}
    unknown = [c for c in frame.columns if c not in declared]
    if unknown:
        raise PublishError(
            f"{table}: columns {unknown} are not in the warehouse table (its columns: "
            f"{[name for name, _ in ddl_columns(table)]}); add them to sql/{table}.sql "
            "(an existing warehouse takes them at its next publish)"
        )
    if "month" in frame.columns and frame.height:
        other = frame.filter(pl.col("month") != month).get_column("month").head(1).to_list()
        if other or frame.select(pl.col("month").null_count()).item():
            raise PublishError(f"{table}: rows of month {other[0] if other else None!r} given to publish {month}")


# DuckDB column types of the DDL as Polars dtypes (a segment is written by Polars)
_DDL_DTYPES = {
    "VARCHAR": pl.Utf8, "BIGINT": pl.Int64, "INTEGER": pl.Int32, "DATE": pl.Date, "BOOLEAN": pl.Boolean,
    "DOUBLE": pl.Float64, "TIMESTAMP": pl.Datetime("us"),
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),(\d+)\)$")


def polars_dtype(ddl_type: str) -> pl.DataType:
    """The Polars dtype a DDL column type (as information_schema spells it) is written as."""
    decimal = _DECIMAL.match(ddl_type)
    if decimal:
        return pl.Decimal(int(decimal.group(1)), int(decimal.group(2)))
    if ddl_type not in _DDL_DTYPES:
        raise PublishError(f"a segment cannot hold DDL type {ddl_type}: add it to flows/warehouse/store.py")
    return _DDL_DTYPES[ddl_type]


def _segment_columns(table: str, frame_columns: Sequence[str], month: str, run_id: str) -> list[pl.Expr]:
    """The table's columns as its DDL types, from the incoming frame (null where the frame
    lacks one; `run_id` and the month's partition values as constants)."""
    exprs = []
    for name, ddl_type in ddl_columns(table):
        dtype = polars_dtype(ddl_type)
        if name == "month":
            exprs.append(pl.lit(month_partition(month)[1], dtype=pl.Int32).alias(name))
        elif name == RUN_ID and name not in frame_columns:
            exprs.append(pl.lit(run_id, dtype=pl.Utf8).alias(name))
        elif name in frame_columns:
            exprs.append(pl.col(name).cast(dtype))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    if has_month(table):
        year, _ = month_partition(month)
        exprs += [pl.lit(year, dtype=pl.Int32).alias("year"), pl.lit(month, dtype=pl.Utf8).alias("period")]
    return exprs


def write_segment(store: Path, table: str, frame: pl.DataFrame, month: str, run_id: str) -> Segment:
    """Write the month's rows of `table` (`frame`, every row tagged with `run_id`) as a new
    segment file, in a stable row order (sorted on all its columns, text byte-wise and nulls
    last, as DuckDB's ORDER BY ALL; a frame already in that order, in line order (see
    `in_line_order`) or strictly ordered on its leading columns, as it is). Polars writes the
    file from the frame's own columns (those already of their DDL type are not copied), zstd
    level 1 (SEGMENT_WRITE_OPTIONS): 5M lines of fct_duty_lines in 2.1 s where DuckDB's COPY
    from the same frame took 3.1 s, the file 3 % larger (3–10 % for the other marts), DuckDB
    reading the same rows and types from both."""
    _check_frame(table, frame, month)
    relative = segment_file(store, table, month, run_id)
    path = store / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [name for name, _ in ddl_columns(table)]
    # (the frame's first column anchors the constants to its height: a frame holding only
    # `month`, e.g. an emptied table's, would otherwise give one row of constants)
    anchor = "__segment_rows"
    columns = _segment_columns(table, frame.columns, month, run_id)
    segment = frame.select(pl.first().alias(anchor), *columns).drop(anchor)
    # (a frame strictly in order on its leading columns, e.g. a mart built in its table's
    # order, needs no sort: later columns never break a tie)
    if not in_line_order(frame, names) and not is_in_order(segment, segment.columns, strict=True):
        segment = segment.sort(segment.columns, nulls_last=True)
    segment.write_parquet(path, **SEGMENT_WRITE_OPTIONS)
    return Segment(table, month, run_id, relative, frame.height, tuple(segment.columns))


def copy_legacy_month(
    con: duckdb.DuckDBPyConnection, store: Path, catalog: str, table: str, month: str | None, run_id: str
) -> Segment:
    """One month of a table of a warehouse from before the segment store (a DuckDB table in
    catalog `catalog`), written as a segment with the columns that table has."""
    present = [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? AND table_schema = 'main' "
            "AND table_name = ? ORDER BY ordinal_position",
            [catalog, table],
        ).fetchall()
    ]
    declared = [name for name, _ in ddl_columns(table)]
    kept = [name for name in declared if name in present]
    source = f"{catalog}.main.{quoted(table)}"
    if "month" in present:
        year, number = month_partition(month) if month else (None, None)
        listed = ", ".join(
            'CAST($number AS INTEGER) AS "month"' if name == "month" else quoted(name) for name in kept
        )
        query = (
            f"SELECT {listed}, CAST($year AS INTEGER) AS year, CAST($month AS VARCHAR) AS period "
            f"FROM {source} WHERE month = $month ORDER BY ALL"
        )
        params: dict = {"number": number, "year": year, "month": month}
        written = [*kept, *PARTITION_COLUMNS]
    else:
        dated = f"run_id IN (SELECT run_id FROM {catalog}.main.runs WHERE month = $month)"
        undated = f"run_id IS NULL OR run_id NOT IN (SELECT run_id FROM {catalog}.main.runs)"
        query = (
            f"SELECT {', '.join(quoted(n) for n in kept)} FROM {source} "
            f"WHERE {dated if month else undated} ORDER BY ALL"
        )
        params = {"month": month} if month else {}
        written = kept
    relative = segment_file(store, table, month, run_id)
    path = store / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({query}) TO $path ({EXPORT_OPTIONS})", {**params, "path": str(path)})
    rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchall()[0][0]
    return Segment(table, month, run_id, relative, rows, tuple(written))


# --------------------------------------------------------------------------------------------
# views


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def view_sql(table: str, segments: Sequence[Segment], store: Path) -> str:
    """`CREATE VIEW` of `table` over its segments (`store`: the store folder as an absolute
    path, so the view reads the same files from any working directory): the DDL's columns in order, `period` read
    as `month`; one SELECT per set of columns the segments were written with (a segment from
    before a column existed gives NULL there), UNION ALL. No segment: an empty view of the
    DDL's columns and types."""
    declared = ddl_columns(table)
    groups: dict[tuple[str, ...], list[str]] = {}
    for segment in segments:
        groups.setdefault(segment.column_names, []).append(str(segment.path(store)))
    selects = []
    for columns, paths in groups.items():
        present = set(columns)
        listed = []
        for name, dtype in declared:
            if name == "month" and "period" in present:
                listed.append('"period" AS "month"')
            elif name in present:
                listed.append(quoted(name))
            else:
                listed.append(f"CAST(NULL AS {dtype}) AS {quoted(name)}")
        files = ", ".join(_sql_text(p) for p in paths)
        selects.append(f"SELECT {', '.join(listed)} FROM read_parquet([{files}])")
    if not selects:
        listed = ", ".join(f"CAST(NULL AS {dtype}) AS {quoted(name)}" for name, dtype in declared)
        selects.append(f"SELECT {listed} WHERE false")
    return f"CREATE VIEW main.{quoted(table)} AS\n" + "\nUNION ALL\n".join(selects)


# --------------------------------------------------------------------------------------------
# files


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_files(paths: Sequence[Path], root: Path) -> None:
    """fsync each file, then every folder from its own up to `root` (each once)."""
    folders: set[Path] = set()
    for path in paths:
        fsync_path(path)
        folder = path.parent
        while folder not in folders and (folder == root or root in folder.parents):
            folders.add(folder)
            folder = folder.parent
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        fsync_path(folder)
    if root.parent.exists():
        fsync_path(root.parent)


def link_or_copy(source: Path, target: Path) -> None:
    """`target` as a hard link to `source` (one copy of the bytes on disk), or a copy when the
    two are on different file systems (or the file system has no hard links)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        shutil.copyfile(source, target)


def remove_files(paths: Sequence[Path], root: Path) -> None:
    """Delete files (missing ones are fine) and the folders under `root` they leave empty."""
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        folder = path.parent
        while folder != root and root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


def expired(retired_at: dt.datetime, now: dt.datetime) -> bool:
    return retired_at <= now - dt.timedelta(hours=retired_hours())
