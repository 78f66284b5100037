"""The Parquet exports of a publish: one file per (export, month), written by DuckDB from the
staging warehouse on a second cursor, in a thread of its own (`Exporter`), while the next table
is being inserted; the swap into `<exports>/<export>/year=YYYY/month=M/` is
flows/warehouse/publish.py's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import polars as pl

from transforms.order import is_in_order
from transforms.vocabulary import LINE_GRAIN

PARQUET_FILE = "part-0.parquet"
# Parquet writer options of the exports: zstd level 1 (smaller than the default level on our
# marts, and faster); a dictionary is kept only for columns with at most 4,096 distinct values
# in a row group, so high-cardinality columns (amounts, entry numbers) go plain at once
# instead of after filling a large dictionary. Encodings only: same columns, types and rows.
EXPORT_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, DICTIONARY_SIZE_LIMIT 4096"


def quoted(name: str) -> str:
    """An identifier for SQL text. Table names come from the mart registry, never from data;
    this also rejects anything but [a-z0-9_] so no value can reach the SQL text."""
    if not name.replace("_", "").isalnum() or not name.isascii() or name != name.lower():
        raise ValueError(f"invalid table name {name!r}")
    return f'"{name}"'


def month_partition(month: str) -> tuple[int, int]:
    year, number = month.split("-")
    return int(year), int(number)


def export_month_dir(root: Path, export: str, month: str) -> Path:
    year, number = month_partition(month)
    return root / export / f"year={year}" / f"month={number}"


def in_line_order(frame: pl.DataFrame, table_columns: Sequence[str]) -> bool:
    """True when `ORDER BY ALL` over the table's columns would give `frame`'s own row order:
    the table starts with the line grain (entry_number, line_number) and the frame's rows are
    strictly increasing on it (so the grain is unique and later columns never break a tie).
    Text compares byte-wise in both Polars and DuckDB."""
    if tuple(table_columns[:2]) != LINE_GRAIN or not set(LINE_GRAIN) <= set(frame.columns):
        return False
    return is_in_order(frame, LINE_GRAIN, strict=True)


def export_month(
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
        f"FROM {quoted(table)} WHERE month = $month{'' if in_order else ' ORDER BY ALL'}) TO $path "
        f"({EXPORT_OPTIONS})",
        {"number": number, "year": year, "month": month, "path": str(path)},
    )
    return path


class Exporter:
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
