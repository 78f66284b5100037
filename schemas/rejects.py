"""Contract of `rejects`: input rows quarantined by a run.

Grain: one row per (source, row_number, column, check) failure of a run; an input row that
breaks several rules has several rows (it is still one rejected row). `row_number` is the
1-based data row of the source file (header excluded). Produced by `transforms/rejects.py`;
DDL in `sql/rejects.sql`.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl


class LoadRejects(pa.DataFrameModel):
    """Rejects as a loader returns them, before the run attaches its `run_id`."""

    source: str
    row_number: pl.Int64 = pa.Field(ge=1)
    column: str
    check: str
    value: str = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True
        unique = ["source", "row_number", "column", "check"]


class Rejects(LoadRejects):
    """Rows of the `rejects` table (contract columns)."""

    run_id: str

    class Config:
        strict = True
        ordered = True
        unique = ["run_id", "source", "row_number", "column", "check"]
