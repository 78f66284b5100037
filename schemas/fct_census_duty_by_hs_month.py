"""Contract of `fct_census_duty_by_hs_month`: one row per month × hts_code × cty_code of a
Census input (the grain, enforced unique). Mirrors `sql/fct_census_duty_by_hs_month.sql`."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

MONEY = pl.Decimal(18, 2)
RATE = pl.Decimal(18, 6)
COMPONENTS = ["mfn_duty_usd", "section_232_duty_usd", "ieepa_duty_usd", "other_duty_usd"]


def _total_is_sum_of_components(data: pa.PolarsData) -> pl.LazyFrame:
    total = pl.lit(0, pl.Decimal(38, 2))
    for column in COMPONENTS:
        total = total + pl.col(column)
    return data.lazyframe.select(pl.col("total_duty_usd") == total)


def _gap_is_computed_minus_calculated(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        (pl.col("duty_gap_usd") == pl.col("computed_duty_usd") - pl.col("calculated_duty_usd"))
        & (pl.col("computed_duty_usd") == pl.col("total_duty_usd"))
    )


def _money(nonnegative: bool = True) -> pa.Column:
    return pa.Column(MONEY, pa.Check.ge(0)) if nonnegative else pa.Column(MONEY)


SCHEMA = pa.DataFrameSchema(
    {
        "month": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[0-9]{4}-(0[1-9]|1[0-2])$")),
        "hts_code": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[0-9]{10}$")),
        "cty_code": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[0-9]{4}$")),
        "country_of_origin": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[A-Z]{2}$")),
        "customs_value_usd": _money(),
        "calculated_duty_usd": _money(),
        "computed_duty_usd": _money(),
        "mfn_duty_usd": _money(),
        "section_232_duty_usd": _money(),
        "ieepa_duty_usd": _money(),
        "other_duty_usd": _money(),
        "total_duty_usd": _money(),
        "effective_duty_rate": pa.Column(RATE, pa.Check.ge(0), nullable=True),
        "calculated_duty_rate": pa.Column(RATE, pa.Check.ge(0), nullable=True),
        "duty_gap_usd": _money(nonnegative=False),
        "ch99_headings": pa.Column(pl.Utf8),
        "flags": pa.Column(pl.Utf8),
        "period_start": pa.Column(pl.Date),
        "period_end": pa.Column(pl.Date),
    },
    checks=[
        pa.Check(_total_is_sum_of_components, name="total_duty_is_sum_of_components"),
        pa.Check(_gap_is_computed_minus_calculated, name="gap_is_computed_minus_calculated"),
    ],
    unique=["month", "hts_code", "cty_code"],
    strict=True,
    name="fct_census_duty_by_hs_month",
)
