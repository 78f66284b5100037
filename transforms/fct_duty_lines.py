"""fct_duty_lines: one row per customs entry line with every duty component, fees and the
chapter 99 headings applied (the contract's line mart)."""

from __future__ import annotations

import polars as pl

from transforms.duty import ENGINE_COLUMNS, compute_line_duty
from transforms.fees import entry_fees
from transforms.order import sorted_by
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
    # the line facts the duty rules read (optional inputs; null where not declared)
    "steel_content_value_usd",
    "aluminum_content_value_usd",
    "export_date",
    "declared_headings",
]


LINE_FACT_DTYPES = {
    "steel_content_value_usd": pl.Decimal(18, 2),
    "aluminum_content_value_usd": pl.Decimal(18, 2),
    "export_date": pl.Date,
    "declared_headings": pl.Utf8,
}


def with_fee_flags(lines: pl.DataFrame) -> pl.DataFrame:
    """`flags` and `fee_flags` joined with ", " (either may be empty)."""
    flags, fee_flags = pl.col("flags").fill_null(""), pl.col("fee_flags").fill_null("")
    return lines.with_columns(
        flags=pl.when(fee_flags == "")
        .then(flags)
        .when(flags == "")
        .then(fee_flags)
        .otherwise(flags + pl.lit(", ") + fee_flags)
    )


def sorted_by_line(lines: pl.DataFrame) -> pl.DataFrame:
    """The lines in the line grain's order, (entry_number, line_number); lines already in that
    order (the usual case: the marts keep the order of fct_duty_lines) are returned as is."""
    return sorted_by(lines, ["entry_number", "line_number"])


def build_fct_duty_lines(stg_customs_lines: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """Apply the schedule and the entry fees to staged customs lines.

    The staged columns the mart keeps are put in the mart's order first (sorting them costs
    less than sorting the finished mart's columns); the duty and the fees keep the order of
    the lines they are given, which the last step checks."""
    kept = [c for c in stg_customs_lines.columns if c in FCT_DUTY_LINES_COLUMNS or c in ENGINE_COLUMNS]
    facts = {c: dtype for c, dtype in LINE_FACT_DTYPES.items() if c not in stg_customs_lines.columns}
    return (
        stg_customs_lines.select(kept)
        .with_columns(pl.lit(None, dtype=dtype).alias(c) for c, dtype in facts.items())
        .pipe(sorted_by_line)
        .pipe(compute_line_duty, schedule)
        .pipe(entry_fees, schedule)
        .pipe(with_fee_flags)
        .select(FCT_DUTY_LINES_COLUMNS)
        .pipe(sorted_by_line)
    )
