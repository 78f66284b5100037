"""Contract of `fct_ieepa_refunds`: the IEEPA refund ledger, one row per customs line that
carried IEEPA duty (grain: entry_number, line_number). The refund status is an estimate as of
`as_of_date` from `estimated_liquidation_date` (entry date + the usual liquidation lag).
Mirrors `sql/fct_ieepa_refunds.sql`."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import common
from transforms.vocabulary import MONEY

GRAIN = ["entry_number", "line_number"]


def _liquidation_after_entry(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col("estimated_liquidation_date") > pl.col("entry_date"))


def _declared_ieepa_only_with_declared_duty(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        pl.col("declared_ieepa_duty_usd").is_null() == pl.col("declared_duty_usd").is_null()
    )


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
        "ieepa_duty_usd": pa.Column(MONEY, pa.Check.gt(0)),
        "declared_duty_usd": pa.Column(MONEY, pa.Check.ge(0), nullable=True),
        "declared_ieepa_duty_usd": pa.Column(MONEY, pa.Check.ge(0), nullable=True),
        "ieepa_headings": pa.Column(pl.Utf8, pa.Check.str_matches(r"^9903\.\d\d\.\d\d(, 9903\.\d\d\.\d\d)*$")),
        "ch99_headings": pa.Column(pl.Utf8),
        "estimated_liquidation_date": pa.Column(pl.Date),
        "as_of_date": pa.Column(pl.Date),
        "refund_status": pa.Column(pl.Utf8, pa.Check.str_length(min_value=1)),
        "cape_eligible": pa.Column(pl.Boolean),
        "refund_status_note": pa.Column(pl.Utf8, pa.Check.str_length(min_value=1)),
    },
    checks=[
        common.grain_is_unique(GRAIN),
        pa.Check(_liquidation_after_entry, name="estimated_liquidation_after_entry"),
        pa.Check(_declared_ieepa_only_with_declared_duty, name="declared_ieepa_only_with_declared_duty"),
    ],
    strict=True,
    name="fct_ieepa_refunds",
)
