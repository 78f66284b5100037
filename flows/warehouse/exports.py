"""The Parquet exports' layout: one file per (export, month) under
`<exports>/<export>/year=YYYY/month=M/part-0.parquet`, the table's columns with the partition
values inside the file (`month` as the month's number, `year`, then `period`, `YYYY-MM`, equal
to the warehouse's `month`), rows in a stable order (ORDER BY ALL), one schema for every month.
The file is the month's segment of the warehouse store (flows/warehouse/store.py), linked into
place by flows/warehouse/publish.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from transforms.order import is_in_order
from transforms.vocabulary import LINE_GRAIN

PARQUET_FILE = "part-0.parquet"
# Parquet writer options of the segment files (each month's export is its segment, linked).
# DuckDB's, for the months it copies out of a warehouse from before the segment store
# (flows/warehouse/store.py: copy_legacy_month): zstd level 1 (smaller than the default level
# on our marts, and faster); a dictionary is kept only for columns with at most 4,096 distinct
# values in a row group, so high-cardinality columns (amounts, entry numbers) go plain at once
# instead of after filling a large dictionary. Encodings only: same columns, types and rows.
EXPORT_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, DICTIONARY_SIZE_LIMIT 4096"
# Polars', for every segment a publish writes (write_segment): zstd level 1, row groups of
# DuckDB's size (122,880 rows), column statistics for DuckDB's filters.
SEGMENT_WRITE_OPTIONS = {"compression": "zstd", "compression_level": 1, "row_group_size": 122_880, "statistics": True}


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
