"""stg_census_lines: Census imports at HS10 × country × period, typed and checked.

Input is the raw all-text frame read by flows/inputs/census.py (columns CTY_CODE, I_COMMODITY,
the value and duty columns, time, source_row). Rows that break a rule become rejects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from transforms.rejects import REJECT_SCHEMA
from transforms.schedule import Schedule
from transforms.vocabulary import MONEY

MONTHLY = ("CON_VAL_MO", "CAL_DUT_MO")
ANNUAL = ("CON_VAL_YR", "CAL_DUT_YR")
_MONEY_TEXT = r"^\d+(\.\d{1,2})?$"


@dataclass(frozen=True)
class StagedCensus:
    stg: pl.DataFrame
    rejects: pl.DataFrame
    out_of_scope: pl.DataFrame  # well-formed rows whose HTS8 the schedule does not cover


def value_columns(columns: list[str]) -> tuple[str, str, bool]:
    """(value column, duty column, annual?) of a Census frame."""
    if all(c in columns for c in MONTHLY):
        return (*MONTHLY, False)
    if all(c in columns for c in ANNUAL):
        return (*ANNUAL, True)
    raise ValueError("census input needs CON_VAL_MO and CAL_DUT_MO (monthly) or CON_VAL_YR and CAL_DUT_YR (annual)")


def stage_census(raw: pl.DataFrame, country_codes: pl.DataFrame, schedule: Schedule, source: str) -> StagedCensus:
    """Type, check and map a raw Census frame.

    `country_codes`: cty_code → country_of_origin (ISO alpha-2). Monthly rows cover their
    month; annual (year-to-date) rows cover 1 January to the end of their `time` month.
    """
    value_col, duty_col, annual = value_columns(raw.columns)
    text = raw.with_columns(
        pl.col("CTY_CODE").str.strip_chars().str.zfill(4).alias("cty_code"),
        pl.col("I_COMMODITY").str.strip_chars().str.replace_all(r"\.", "").alias("hts_code"),
        pl.col("time").str.strip_chars().str.slice(0, 7).alias("month"),
        pl.col(value_col).str.strip_chars().alias("_value"),
        pl.col(duty_col).str.strip_chars().alias("_duty"),
    ).join(country_codes, on="cty_code", how="left")
    month_start = pl.col("month").str.to_date("%Y-%m", strict=False)
    checks = [
        ("I_COMMODITY", "hts10_format", ~pl.col("hts_code").str.contains(r"^\d{10}$").fill_null(False)),
        ("CTY_CODE", "cty_code_known", pl.col("country_of_origin").is_null()),
        (
            "time",
            "month_format",
            month_start.is_null() | ~pl.col("month").str.contains(r"^\d{4}-\d{2}$").fill_null(False),
        ),
        (value_col, "money_non_negative_2dp", ~pl.col("_value").str.contains(_MONEY_TEXT).fill_null(False)),
        (duty_col, "money_non_negative_2dp", ~pl.col("_duty").str.contains(_MONEY_TEXT).fill_null(False)),
    ]
    source_values = {
        "I_COMMODITY": "I_COMMODITY",
        "CTY_CODE": "CTY_CODE",
        "time": "time",
        value_col: value_col,
        duty_col: duty_col,
    }
    rejects = pl.concat(
        [
            text.filter(bad).select(
                source=pl.lit(source),
                row_number=pl.col("source_row").cast(pl.Int64),
                column=pl.lit(column),
                check=pl.lit(check),
                value=pl.col(source_values[column]).cast(pl.Utf8),
            )
            for column, check, bad in checks
        ]
    )
    good = text.join(rejects.select(source_row=pl.col("row_number")).unique(), on="source_row", how="anti")
    duplicate = pl.len().over("month", "hts_code", "cty_code") > 1
    dup_rejects = good.filter(duplicate).select(
        source=pl.lit(source),
        row_number=pl.col("source_row").cast(pl.Int64),
        column=pl.lit("I_COMMODITY"),
        check=pl.lit("grain_unique"),
        value=pl.concat_str("month", "hts_code", "cty_code", separator="|"),
    )
    good = good.filter(~duplicate)
    start = pl.col("month").str.to_date("%Y-%m")
    staged = good.select(
        "source_row",
        "month",
        "cty_code",
        "country_of_origin",
        "hts_code",
        customs_value_usd=pl.col("_value").cast(MONEY),
        calculated_duty_usd=pl.col("_duty").cast(MONEY),
        period_start=(pl.date(start.dt.year(), 1, 1) if annual else start),
        period_end=start.dt.offset_by("1mo"),
    )
    covered = staged.get_column("hts_code").str.slice(0, 8).is_in(schedule.mfn.get_column("hts8").implode())
    return StagedCensus(
        stg=staged.filter(covered).sort("month", "hts_code", "cty_code"),
        rejects=pl.concat([rejects, dup_rejects]).cast(REJECT_SCHEMA).sort("row_number", "column"),
        out_of_scope=staged.filter(~covered),
    )


def period_segments(periods: pl.DataFrame, boundaries: list[dt.date]) -> pl.DataFrame:
    """Split each distinct (period_start, period_end) at the schedule's date boundaries.

    Returns period_start, period_end, segment_start, days, period_days: within a segment no
    measure starts or ends, so the schedule evaluated on segment_start holds for all its days.
    Loops over distinct periods (a handful), never over data rows.
    """
    rows = []
    for start, end in periods.select("period_start", "period_end").unique().iter_rows():
        cuts = sorted({start, end, *(b for b in boundaries if start < b < end)})
        for seg_start, seg_end in zip(cuts, cuts[1:], strict=False):
            rows.append((start, end, seg_start, (seg_end - seg_start).days, (end - start).days))
    return pl.DataFrame(
        rows,
        schema={
            "period_start": pl.Date,
            "period_end": pl.Date,
            "segment_start": pl.Date,
            "days": pl.Int64,
            "period_days": pl.Int64,
        },
        orient="row",
    )
