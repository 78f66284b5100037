"""Contract of `fct_duty_by_hs_month`: one row per month × hts_code × country_of_origin
(the grain, enforced unique). Money columns are exact sums of fct_duty_lines. Mirrors
`sql/fct_duty_by_hs_month.sql`."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

MONEY = pl.Decimal(18, 2)
EFFECTIVE_RATE = pl.Decimal(18, 6)

GRAIN = ["month", "hts_code", "country_of_origin"]
COMPONENTS = ["mfn_duty_usd", "section_232_duty_usd", "ieepa_duty_usd", "other_duty_usd"]


def _duty() -> pa.Column:
    return pa.Column(MONEY, pa.Check.ge(0))


def _total_is_sum_of_components(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col("total_duty_usd") == pl.sum_horizontal(COMPONENTS))


def _cost_is_duty_plus_fees(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        pl.col("total_cost_usd") == pl.sum_horizontal("total_duty_usd", "mpf_usd", "hmf_usd")
    )


SCHEMA = pa.DataFrameSchema(
    {
        "month": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[0-9]{4}-(0[1-9]|1[0-2])$")),
        "hts_code": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[0-9]{10}$")),
        "country_of_origin": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[A-Z]{2}$")),
        "line_count": pa.Column(pl.Int64, pa.Check.ge(1)),
        "customs_value_usd": pa.Column(MONEY, pa.Check.ge(0)),
        "mfn_duty_usd": _duty(),
        "section_232_duty_usd": _duty(),
        "ieepa_duty_usd": _duty(),
        "other_duty_usd": _duty(),
        "total_duty_usd": _duty(),
        "mpf_usd": _duty(),
        "hmf_usd": _duty(),
        "total_cost_usd": _duty(),
        "effective_duty_rate": pa.Column(EFFECTIVE_RATE, pa.Check.ge(0), nullable=True),
    },
    checks=[
        pa.Check(_total_is_sum_of_components, name="total_duty_is_sum_of_components"),
        pa.Check(_cost_is_duty_plus_fees, name="total_cost_is_duty_plus_fees"),
    ],
    unique=GRAIN,
    strict=True,
    name="fct_duty_by_hs_month",
)
