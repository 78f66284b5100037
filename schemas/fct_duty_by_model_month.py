"""Contract of `fct_duty_by_model_month`: one row per month × make × model (the grain,
enforced unique). Money columns are exact sums of fct_vehicle_duty. Mirrors
`sql/fct_duty_by_model_month.sql`."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import common
from transforms.vocabulary import MONEY

SHARE = pl.Decimal(18, 6)

GRAIN = ["month", "make", "model"]


def _money() -> pa.Column:
    return pa.Column(MONEY, pa.Check.ge(0))


def _cost_is_duty_plus_fees(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        pl.col("total_cost_usd") == pl.sum_horizontal("total_duty_usd", "total_fees_usd")
    )


def _counts_within_vehicles(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        (pl.col("misclassified_vehicles") <= pl.col("vehicles"))
        & (pl.col("maker_mismatch_vehicles") <= pl.col("vehicles"))
    )


SCHEMA = pa.DataFrameSchema(
    {
        "month": common.month(),
        "make": pa.Column(pl.Utf8),
        "model": pa.Column(pl.Utf8),
        "vehicles": pa.Column(pl.Int64, pa.Check.ge(1)),
        "customs_value_usd": _money(),
        "total_duty_usd": _money(),
        "total_fees_usd": _money(),
        "total_cost_usd": _money(),
        "msrp_usd": _money(),
        "avg_duty_per_vehicle_usd": _money(),
        "avg_cost_per_vehicle_usd": _money(),
        "effective_duty_rate": pa.Column(SHARE, pa.Check.ge(0), nullable=True),
        "duty_share_of_msrp": pa.Column(SHARE, pa.Check.ge(0), nullable=True),
        "misclassified_vehicles": pa.Column(pl.Int64, pa.Check.ge(0)),
        "maker_mismatch_vehicles": pa.Column(pl.Int64, pa.Check.ge(0)),
    },
    checks=[
        pa.Check(_cost_is_duty_plus_fees, name="total_cost_is_duty_plus_fees"),
        pa.Check(_counts_within_vehicles, name="flag_counts_within_vehicles"),
    ],
    unique=GRAIN,
    strict=True,
    ordered=True,
    name="fct_duty_by_model_month",
)
