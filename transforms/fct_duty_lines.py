"""fct_duty_lines: one row per customs entry line with every duty component, fees and the
chapter 99 headings applied (the contract's line mart)."""

from __future__ import annotations

import polars as pl

from transforms.duty import compute_line_duty
from transforms.fees import entry_fees
from transforms.schedule import Schedule

FCT_DUTY_LINES_COLUMNS = [
    "entry_number",
    "line_number",
    "entry_date",
    "month",
    "hts_code",
    "country_of_origin",
    "customs_value_usd",
    "mfn_duty_usd",
    "section_232_duty_usd",
    "ieepa_duty_usd",
    "other_duty_usd",
    "total_duty_usd",
    "mpf_usd",
    "hmf_usd",
    "total_cost_usd",
    "effective_duty_rate",
    "ch99_headings",
    # extensions beyond the contract's required columns
    "importer_id",
    "transport_mode",
    "port_code",
    "quantity",
    "quantity_unit",
    "mfn_rate_text",
    "declared_duty_usd",
    "flags",
]


def build_fct_duty_lines(stg_customs_lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """Apply the schedule and the entry fees to staged customs lines."""
    return (
        stg_customs_lines.pipe(compute_line_duty, schedule)
        .pipe(entry_fees, schedule)
        .with_columns(
            flags=pl.concat_str(
                [
                    pl.when(pl.col("flags") != "").then(pl.col("flags")),
                    pl.when(pl.col("fee_flags") != "").then(pl.col("fee_flags")),
                ],
                separator=", ",
                ignore_nulls=True,
            ).fill_null("")
        )
        .select(FCT_DUTY_LINES_COLUMNS)
        .sort("entry_number", "line_number")
    )
