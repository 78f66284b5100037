"""fct_duty_by_hs_month: one row per month × hts_code × country_of_origin, the exact sums of
fct_duty_lines."""

from __future__ import annotations

import polars as pl

from transforms.duty import effective_rate
from transforms.vocabulary import MONEY

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
    return (
        fct_duty_lines.group_by(GRAIN)
        .agg(
            line_count=pl.len().cast(pl.Int64),
            **{column: pl.col(column).sum().cast(MONEY) for column in SUMMED},
        )
        .with_columns(
            effective_duty_rate=effective_rate(pl.col("total_duty_usd"), pl.col("customs_value_usd"))
        )
        .select(*GRAIN, "line_count", *SUMMED, "effective_duty_rate")
        .sort(GRAIN)
    )
