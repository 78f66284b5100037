"""Contract of `fct_ieepa_refunds_by_importer_month`: one row per month × importer_id (the
grain, enforced unique), exact sums of the fct_ieepa_refunds lines. Mirrors
`sql/fct_ieepa_refunds_by_importer_month.sql`."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import common
from transforms.vocabulary import MONEY

GRAIN = ["month", "importer_id"]


def _counts_consistent(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        (pl.col("entry_count") <= pl.col("line_count")) & (pl.col("declared_line_count") <= pl.col("line_count"))
    )


def _cape_part_of_total(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col("cape_eligible_ieepa_duty_usd") <= pl.col("ieepa_duty_usd"))


SCHEMA = pa.DataFrameSchema(
    {
        "month": common.month(),
        "importer_id": pa.Column(pl.Utf8),
        "entry_count": pa.Column(pl.Int64, pa.Check.ge(1)),
        "line_count": pa.Column(pl.Int64, pa.Check.ge(1)),
        "declared_line_count": pa.Column(pl.Int64, pa.Check.ge(0)),
        "customs_value_usd": pa.Column(MONEY, pa.Check.ge(0)),
        "ieepa_duty_usd": pa.Column(MONEY, pa.Check.gt(0)),
        "declared_ieepa_duty_usd": pa.Column(MONEY, pa.Check.ge(0)),
        "cape_eligible_ieepa_duty_usd": pa.Column(MONEY, pa.Check.ge(0)),
        "as_of_date": pa.Column(pl.Date),
    },
    checks=[
        pa.Check(_counts_consistent, name="counts_consistent"),
        pa.Check(_cape_part_of_total, name="cape_eligible_part_of_total"),
    ],
    unique=GRAIN,
    strict=True,
    name="fct_ieepa_refunds_by_importer_month",
)
