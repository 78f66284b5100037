"""Contract of `fct_reconciliation_by_importer_month`: one row per month × importer_id (the
grain, enforced unique); counts per reconciliation status and exact money sums of
fct_reconciliation. Mirrors `sql/fct_reconciliation_by_importer_month.sql`."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import common
from transforms.vocabulary import MONEY

GRAIN = ["month", "importer_id"]


def _counts_add_up(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        (pl.col("line_count") == pl.col("match_count") + pl.col("overpaid_count") + pl.col("underpaid_count"))
        & (pl.col("unexplained_count") <= pl.col("overpaid_count") + pl.col("underpaid_count"))
    )


def _difference_is_computed_minus_declared(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        pl.col("difference_usd") == pl.col("total_duty_usd") - pl.col("declared_duty_usd")
    )


def _count() -> pa.Column:
    return pa.Column(pl.Int64, pa.Check.ge(0))


SCHEMA = pa.DataFrameSchema(
    {
        "month": common.month(),
        "importer_id": pa.Column(pl.Utf8),
        "line_count": pa.Column(pl.Int64, pa.Check.ge(1)),
        "match_count": _count(),
        "overpaid_count": _count(),
        "underpaid_count": _count(),
        "unexplained_count": _count(),
        "declared_duty_usd": pa.Column(MONEY, pa.Check.ge(0)),
        "total_duty_usd": pa.Column(MONEY, pa.Check.ge(0)),
        "difference_usd": pa.Column(MONEY),
        "overpaid_usd": pa.Column(MONEY, pa.Check.ge(0)),
        "underpaid_usd": pa.Column(MONEY, pa.Check.ge(0)),
    },
    checks=[
        pa.Check(_counts_add_up, name="status_counts_add_up"),
        pa.Check(_difference_is_computed_minus_declared, name="difference_is_computed_minus_declared"),
    ],
    unique=GRAIN,
    strict=True,
    name="fct_reconciliation_by_importer_month",
)
