"""fct_ieepa_refunds_by_importer_month: one row per month × importer_id of the IEEPA refund
ledger, the exact sums of fct_ieepa_refunds."""

from __future__ import annotations

import polars as pl

from transforms.vocabulary import MONEY

GRAIN = ["month", "importer_id"]
COLUMNS = [
    *GRAIN,
    "entry_count",
    "line_count",
    "declared_line_count",
    "customs_value_usd",
    "ieepa_duty_usd",
    "declared_ieepa_duty_usd",
    "cape_eligible_ieepa_duty_usd",
    "as_of_date",
]


def build_fct_ieepa_refunds_by_importer_month(fct_ieepa_refunds: pl.DataFrame) -> pl.DataFrame:
    """`declared_ieepa_duty_usd` sums the lines that declared their duty (`declared_line_count`
    of them); `cape_eligible_ieepa_duty_usd` the computed IEEPA duty of the lines estimated to
    be within the CAPE refund process as of `as_of_date`."""
    sums = {
        "entry_count": pl.col("entry_number").n_unique().cast(pl.Int64),
        "line_count": pl.len().cast(pl.Int64),
        "declared_line_count": pl.col("declared_ieepa_duty_usd").is_not_null().sum().cast(pl.Int64),
        "customs_value_usd": pl.col("customs_value_usd").sum().cast(MONEY),
        "ieepa_duty_usd": pl.col("ieepa_duty_usd").sum().cast(MONEY),
        "declared_ieepa_duty_usd": pl.col("declared_ieepa_duty_usd").sum().cast(MONEY),
        "cape_eligible_ieepa_duty_usd": pl.col("ieepa_duty_usd").filter(pl.col("cape_eligible")).sum().cast(MONEY),
        "as_of_date": pl.col("as_of_date").max(),
    }
    one_month, month = fct_ieepa_refunds.select(
        pl.col("month").n_unique() == 1, pl.col("month").first().alias("first")
    ).row(0)
    if one_month:
        # one month (a monthly run's ledger): grouped by importer alone, the month put back
        # as the one value it is. Grouping by the month too spells it out on every line and
        # encodes both keys per line: 2.96M census ledger lines, 0.18 GiB at the step's peak
        rollup = fct_ieepa_refunds.group_by("importer_id").agg(**sums).with_columns(
            pl.lit(month, dtype=fct_ieepa_refunds.schema["month"]).alias("month")
        )
    else:
        rollup = fct_ieepa_refunds.group_by(GRAIN).agg(**sums)
    return rollup.select(COLUMNS).sort(GRAIN)
