"""fct_reconciliation_by_importer_month: one row per month × importer_id, the exact sums of
fct_reconciliation (declared vs computed duty, what was overpaid and underpaid)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from transforms.vocabulary import MONEY

GRAIN = ["month", "importer_id"]
COLUMNS = [
    *GRAIN,
    "line_count",
    "match_count",
    "overpaid_count",
    "underpaid_count",
    "unexplained_count",
    "declared_duty_usd",
    "total_duty_usd",
    "difference_usd",
    "overpaid_usd",
    "underpaid_usd",
]


def build_fct_reconciliation_by_importer_month(fct_reconciliation: pl.DataFrame) -> pl.DataFrame:
    """Counts per status, `unexplained_count` (differences without a likely cause), and money
    sums: `overpaid_usd` = −Σ difference of overpaid lines (≥ 0), `underpaid_usd` = Σ difference
    of underpaid lines (≥ 0); difference_usd = underpaid_usd − overpaid_usd + Σ of the
    within-a-cent differences of matching lines."""
    zero = pl.lit(Decimal(0), dtype=MONEY)

    def count(status: str) -> pl.Expr:
        return (pl.col("status") == status).sum().cast(pl.Int64)

    return (
        fct_reconciliation.group_by(GRAIN)
        .agg(
            line_count=pl.len().cast(pl.Int64),
            match_count=count("match"),
            overpaid_count=count("overpaid"),
            underpaid_count=count("underpaid"),
            unexplained_count=((pl.col("status") != "match") & pl.col("likely_cause").is_null()).sum().cast(pl.Int64),
            declared_duty_usd=pl.col("declared_duty_usd").sum().cast(MONEY),
            total_duty_usd=pl.col("total_duty_usd").sum().cast(MONEY),
            difference_usd=pl.col("difference_usd").sum().cast(MONEY),
            overpaid_usd=(-pl.when(pl.col("status") == "overpaid").then(pl.col("difference_usd")).otherwise(zero))
            .sum()
            .cast(MONEY),
            underpaid_usd=pl.when(pl.col("status") == "underpaid")
            .then(pl.col("difference_usd"))
            .otherwise(zero)
            .sum()
            .cast(MONEY),
        )
        .select(COLUMNS)
        .sort(GRAIN)
    )
