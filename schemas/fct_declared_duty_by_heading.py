"""Contract of `fct_declared_duty_by_heading`: one row per customs line × duty heading (grain:
entry_number, line_number, heading), `heading` a chapter 99/98 heading or `MFN`; the duty the
line declared under the heading beside the duty the schedule computes under it.
difference_usd = computed − declared (a missing declared amount counts 0); `cause` as in
`transforms/fct_declared_duty_by_heading.py`. Mirrors `sql/fct_declared_duty_by_heading.sql`."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import common
from transforms.fct_declared_duty_by_heading import CAUSES
from transforms.vocabulary import LINE_GRAIN, MONEY

GRAIN = [*LINE_GRAIN, "heading"]


def _difference_is_computed_minus_declared(data: pa.PolarsData) -> pl.LazyFrame:
    declared = pl.col("declared_duty_usd").fill_null(pl.lit(0).cast(MONEY))
    return data.lazyframe.select(pl.col("difference_usd") == pl.col("computed_duty_usd") - declared)


SCHEMA = pa.DataFrameSchema(
    {
        "entry_number": common.entry_number(),
        "line_number": common.line_number(),
        "entry_date": pa.Column(pl.Date),
        "month": common.month(),
        "importer_id": pa.Column(pl.Utf8, nullable=True),
        "hts_code": common.hts_code(),
        "country_of_origin": common.country_of_origin(),
        "heading": pa.Column(pl.Utf8, pa.Check.str_matches(r"^(MFN|[0-9]{4}\.[0-9]{2}\.[0-9]{2}(\.[0-9]{2})?)$")),
        "program": pa.Column(pl.Utf8, nullable=True),
        "declared_duty_usd": pa.Column(MONEY, nullable=True),
        "computed_duty_usd": common.duty(),
        "difference_usd": pa.Column(MONEY),
        "cause": pa.Column(pl.Utf8, pa.Check.isin(list(CAUSES))),
    },
    checks=[
        common.grain_is_unique(GRAIN),
        pa.Check(_difference_is_computed_minus_declared, name="difference_is_computed_minus_declared"),
    ],
    strict=True,
    ordered=True,
    name="fct_declared_duty_by_heading",
)
