"""Contract of `runs`: one row per run attempt of one month (grain: run_id, month). Mirrors
`sql/runs.sql`. JSON-valued columns are text holding JSON."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

GRAIN = ["run_id", "month"]
STATUSES = ["success", "failed", "abandoned"]

SCHEMA = pa.DataFrameSchema(
    {
        "run_id": pa.Column(pl.Utf8),
        "month": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[0-9]{4}-(0[1-9]|1[0-2])$")),
        "started_at": pa.Column(pl.Datetime("us")),
        "finished_at": pa.Column(pl.Datetime("us"), nullable=True),
        "status": pa.Column(pl.Utf8, pa.Check.isin(STATUSES)),
        "rows_in": pa.Column(pl.Int64, pa.Check.ge(0), nullable=True),
        "rows_rejected": pa.Column(pl.Int64, pa.Check.ge(0), nullable=True),
        "rows_published": pa.Column(pl.Int64, pa.Check.ge(0), nullable=True),
        "tables_published": pa.Column(pl.Utf8, nullable=True),
        "schedule_version": pa.Column(pl.Utf8, nullable=True),
        "schedule_source": pa.Column(pl.Utf8, nullable=True),
        "input_checksums": pa.Column(pl.Utf8, nullable=True),
        "stage_timings": pa.Column(pl.Utf8, nullable=True),
        "error_message": pa.Column(pl.Utf8, nullable=True),
        "scenarios": pa.Column(pl.Utf8, nullable=True),
        "warnings": pa.Column(pl.Utf8, nullable=True),
    },
    unique=GRAIN,
    strict=True,
    name="runs",
)
