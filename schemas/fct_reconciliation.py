"""Contract of `fct_reconciliation`: one row per customs line that declared its duty (grain:
entry_number, line_number). difference_usd = total_duty_usd (computed) − declared_duty_usd;
status `match` within one cent, else `overpaid` (negative) or `underpaid` (positive);
likely_cause null when the difference is not recognised (or there is none). Mirrors
`sql/fct_reconciliation.sql`."""

from __future__ import annotations

from decimal import Decimal

import pandera.polars as pa
import polars as pl

from schemas import common
from transforms.vocabulary import MONEY

GRAIN = ["entry_number", "line_number"]
STATUSES = ["match", "overpaid", "underpaid"]


def _difference_is_computed_minus_declared(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        pl.col("difference_usd") == pl.col("total_duty_usd") - pl.col("declared_duty_usd")
    )


def _status_follows_difference(data: pa.PolarsData) -> pl.LazyFrame:
    cent = pl.lit(Decimal("0.01"), dtype=MONEY)
    difference = pl.col("difference_usd")
    expected = (
        pl.when(difference.abs() <= cent)
        .then(pl.lit("match"))
        .when(difference < 0)
        .then(pl.lit("overpaid"))
        .otherwise(pl.lit("underpaid"))
    )
    return data.lazyframe.select(pl.col("status") == expected)


SCHEMA = pa.DataFrameSchema(
    {
        "entry_number": common.entry_number(),
        "line_number": common.line_number(),
        "entry_date": pa.Column(pl.Date),
        "month": common.month(),
        "importer_id": pa.Column(pl.Utf8),
        "hts_code": common.hts_code(),
        "country_of_origin": common.country_of_origin(),
        "customs_value_usd": pa.Column(MONEY, pa.Check.ge(0)),
        "declared_duty_usd": pa.Column(MONEY, pa.Check.ge(0)),
        "total_duty_usd": pa.Column(MONEY, pa.Check.ge(0)),
        "difference_usd": pa.Column(MONEY),
        "status": pa.Column(pl.Utf8, pa.Check.isin(STATUSES)),
        "likely_cause": pa.Column(pl.Utf8, nullable=True),
        "ch99_headings": pa.Column(pl.Utf8),
    },
    checks=[
        common.grain_is_unique(GRAIN),
        pa.Check(_difference_is_computed_minus_declared, name="difference_is_computed_minus_declared"),
        pa.Check(_status_follows_difference, name="status_follows_difference"),
    ],
    strict=True,
    name="fct_reconciliation",
)
