"""Contract of `fct_census_duty_by_hs_month`: one row per month × hts_code × cty_code of a
Census input (the grain, enforced unique). Mirrors `sql/fct_census_duty_by_hs_month.sql`."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import common
from schemas.common import MONEY, duty


def _gap_is_computed_minus_calculated(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        (pl.col("duty_gap_usd") == pl.col("computed_duty_usd") - pl.col("calculated_duty_usd"))
        & (pl.col("computed_duty_usd") == pl.col("total_duty_usd"))
    )


SCHEMA = pa.DataFrameSchema(
    {
        "month": common.month(),
        "hts_code": common.hts_code(),
        "cty_code": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[0-9]{4}$")),
        "country_of_origin": common.country_of_origin(),
        "customs_value_usd": duty(),
        "calculated_duty_usd": duty(),
        "computed_duty_usd": duty(),
        "mfn_duty_usd": duty(),
        "section_232_duty_usd": duty(),
        "ieepa_duty_usd": duty(),
        "other_duty_usd": duty(),
        "total_duty_usd": duty(),
        "effective_duty_rate": common.effective_rate(),
        "calculated_duty_rate": common.effective_rate(),
        "duty_gap_usd": pa.Column(MONEY),
        "ch99_headings": pa.Column(pl.Utf8),
        "flags": pa.Column(pl.Utf8),
        "period_start": pa.Column(pl.Date),
        "period_end": pa.Column(pl.Date),
        "run_id": common.run_id(),
    },
    checks=[
        common.total_is_sum_of_components(),
        pa.Check(_gap_is_computed_minus_calculated, name="gap_is_computed_minus_calculated"),
    ],
    unique=["month", "hts_code", "cty_code"],
    strict=True,
    name="fct_census_duty_by_hs_month",
)
