"""fct_duty_by_hs_month: one row per month × hts_code × country_of_origin, the exact sums of
fct_duty_lines."""

from __future__ import annotations

import polars as pl

from transforms.duty import EFFECTIVE_RATE
from transforms.schedule import MONEY, RATE

GRAIN = ["month", "hts_code", "country_of_origin"]
SUMMED = [
    "customs_value_usd",
    "mfn_duty_usd",
    "section_232_duty_usd",
    "ieepa_duty_usd",
    "other_duty_usd",
    "total_duty_usd",
    "mpf_usd",
    "hmf_usd",
    "total_cost_usd",
]


def build_fct_duty_by_hs_month(fct_duty_lines: pl.DataFrame) -> pl.DataFrame:
    """Aggregate lines; money sums stay DECIMAL(18,2) and are exact."""
    value = pl.col("customs_value_usd").cast(RATE)
    return (
        fct_duty_lines.group_by(GRAIN)
        .agg(
            line_count=pl.len().cast(pl.Int64),
            **{column: pl.col(column).sum().cast(MONEY) for column in SUMMED},
        )
        .with_columns(
            effective_duty_rate=pl.when(value > 0)
            .then((pl.col("total_duty_usd").cast(RATE) / value).round(6, mode="half_away_from_zero"))
            .otherwise(None)
            .cast(EFFECTIVE_RATE)
        )
        .select(*GRAIN, "line_count", *SUMMED, "effective_duty_rate")
        .sort(GRAIN)
    )
