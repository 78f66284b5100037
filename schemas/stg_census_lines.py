"""Contract of `stg_census_lines`: Census imports parsed, checked and mapped to ISO origins.

Grain: one row per month × hts_code × cty_code (Census's own grain), unique on `source_row`.
Produced by `flows/inputs/census.py` + `transforms/stg_census_lines.py` from the rows of a
Census file that failed no row check and whose HTS8 the schedule covers. A monthly row covers
its month; an annual (year-to-date) row covers 1 January to the end of its month
(`period_start` .. `period_end`, end excluded). The loader validates every staged frame with
this schema as a guard.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl


class StgCensusLines(pa.DataFrameModel):
    """One row per month × HS10 × Census country code."""

    source_row: pl.Int64 = pa.Field(ge=1, unique=True)
    month: str = pa.Field(str_matches=r"^[0-9]{4}-(0[1-9]|1[0-2])$")
    cty_code: str = pa.Field(str_matches=r"^[0-9]{4}$")
    country_of_origin: str = pa.Field(str_matches=r"^[A-Z]{2}$")
    hts_code: str = pa.Field(str_matches=r"^[0-9]{10}$")
    customs_value_usd: pl.Decimal(18, 2) = pa.Field(ge=0)
    calculated_duty_usd: pl.Decimal(18, 2) = pa.Field(ge=0)
    period_start: pl.Date
    period_end: pl.Date

    @pa.dataframe_check
    def grain_is_unique(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """month × hts_code × cty_code appears once."""
        return data.lazyframe.select(pl.len().over("month", "hts_code", "cty_code") == 1)

    @pa.dataframe_check
    def period_is_not_empty(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """The period ends after it starts."""
        return data.lazyframe.select(pl.col("period_end") > pl.col("period_start"))

    class Config:
        strict = True
        ordered = True
