"""fct_duty_by_model_month: one row per month × make × model, the exact sums of
fct_vehicle_duty (money), vehicle counts, and averages rounded once."""

from __future__ import annotations

import polars as pl

from transforms.vocabulary import MONEY

EXACT = pl.Decimal(38, 10)
SHARE = pl.Decimal(18, 6)

GRAIN = ["month", "make", "model"]

FCT_DUTY_BY_MODEL_MONTH_COLUMNS = [
    "month",
    "make",
    "model",
    "vehicles",
    "customs_value_usd",
    "total_duty_usd",
    "total_fees_usd",
    "total_cost_usd",
    "msrp_usd",
    "avg_duty_per_vehicle_usd",
    "avg_cost_per_vehicle_usd",
    "effective_duty_rate",
    "duty_share_of_msrp",
    "misclassified_vehicles",
    "maker_mismatch_vehicles",
]


def _ratio(numerator: str, denominator: pl.Expr, decimals: int, dtype: pl.Decimal) -> pl.Expr:
    """numerator / denominator rounded once (half away from zero); null when the denominator
    is 0."""
    return pl.when(denominator > 0).then(
        (pl.col(numerator).cast(EXACT) / denominator.cast(EXACT))
        .round(decimals, mode="half_away_from_zero")
        .cast(dtype)
    )


def build_fct_duty_by_model_month(fct_vehicle_duty: pl.DataFrame) -> pl.DataFrame:
    """Aggregate fct_vehicle_duty to month × make × model. Money columns are exact sums of the
    vehicles' rounded amounts; `avg_*` = sum / vehicles and the rates are rounded once."""
    return (
        fct_vehicle_duty.group_by(GRAIN)
        .agg(
            pl.len().cast(pl.Int64).alias("vehicles"),
            pl.col("customs_value_usd").sum().cast(MONEY),
            pl.col("duty_usd").sum().cast(MONEY).alias("total_duty_usd"),
            pl.col("fees_usd").sum().cast(MONEY).alias("total_fees_usd"),
            pl.col("total_cost_usd").sum().cast(MONEY),
            pl.col("msrp_usd").sum().cast(MONEY),
            (~pl.col("classification_ok")).sum().cast(pl.Int64).alias("misclassified_vehicles"),
            pl.col("maker_mismatch").fill_null(False).sum().cast(pl.Int64).alias("maker_mismatch_vehicles"),
        )
        .with_columns(
            avg_duty_per_vehicle_usd=_ratio("total_duty_usd", pl.col("vehicles"), 2, MONEY),
            avg_cost_per_vehicle_usd=_ratio("total_cost_usd", pl.col("vehicles"), 2, MONEY),
            effective_duty_rate=_ratio("total_duty_usd", pl.col("customs_value_usd"), 6, SHARE),
            duty_share_of_msrp=_ratio("total_duty_usd", pl.col("msrp_usd"), 6, SHARE),
        )
        .select(FCT_DUTY_BY_MODEL_MONTH_COLUMNS)
        .sort(GRAIN)
    )
