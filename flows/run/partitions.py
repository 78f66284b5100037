"""Entry-hash partitions of a large month (the cluster path): how many lines each month has,
how many partitions it is split into, and which rows belong to a partition. An entry never
spans two partitions (MPF and HMF are per entry)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from flows.inputs.files import is_parquet
from flows.run.storage import local_input
from transforms.stg_customs_lines import entry_number_key, iso_date

# Fixed seed of the entry-number hash: every worker must put an entry in the same partition
# (Polars' hash is stable for one Polars version; all machines run the locked versions).
PARTITION_SEED = 20_250_403

def entry_partition(index: int, count: int) -> pl.Expr:
    """Over raw customs lines: the rows whose normalised entry number hashes to partition
    `index` of `count`. Every line of an entry hashes alike, so an entry is never split."""
    if not 0 <= index < count:
        raise ValueError(f"partition {index} is not in 0..{count - 1}")
    return (entry_number_key().hash(seed=PARTITION_SEED) % count) == index


def month_line_counts(location: str | Path) -> dict[str, int]:
    """Input lines per entry-date month of a customs file (CSV or Parquet), by a lazy scan of
    one column; rows whose date does not parse are not counted."""
    path = local_input(location)
    parquet = is_parquet(path)
    lazy = (
        pl.scan_parquet(path).select(pl.col("entry_date").cast(pl.Utf8))
        if parquet
        else pl.scan_csv(path, infer_schema=False).select("entry_date")
    )
    counts = (
        lazy.select(month=iso_date("entry_date").dt.strftime("%Y-%m"))
        .drop_nulls()
        .group_by("month")
        .len()
        .collect()
    )
    return dict(zip(counts["month"].to_list(), counts["len"].to_list(), strict=True))


def partition_plan(months: Sequence[str], counts: Mapping[str, int], partition_lines: int) -> dict[str, int]:
    """month -> number of partitions: ceil(lines / partition_lines), at least 1."""
    if partition_lines < 1:
        raise ValueError(f"--partition-lines must be at least 1, got {partition_lines}")
    return {m: max(1, math.ceil(counts.get(m, 0) / partition_lines)) for m in months}
