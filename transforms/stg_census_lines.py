"""stg_census_lines: Census imports at HS10 × country × period, typed and checked.

Input is the raw all-text frame read by the staging pipeline (flows/inputs/staging.py; columns
CTY_CODE, I_COMMODITY, the value and duty columns, time, source_row): `parse_census` adds the
normalised columns, `census_checks` is the table of row rules (rows that break one become
rejects), `stage_census` stages the rows that passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from transforms.rejects import SOURCE_ROW, RowCheck
from transforms.schedule import Schedule
from transforms.vocabulary import MONEY

MONTHLY = ("CON_VAL_MO", "CAL_DUT_MO")
ANNUAL = ("CON_VAL_YR", "CAL_DUT_YR")
_MONEY_TEXT = r"^\d+(\.\d{1,2})?$"


def value_columns(columns: Sequence[str]) -> tuple[str, str, bool]:
    """(value column, duty column, annual?) of a Census frame."""
    if all(c in columns for c in MONTHLY):
        return (*MONTHLY, False)
    if all(c in columns for c in ANNUAL):
        return (*ANNUAL, True)
    raise ValueError("census input needs CON_VAL_MO and CAL_DUT_MO (monthly) or CON_VAL_YR and CAL_DUT_YR (annual)")


def parse_census(raw: pl.DataFrame, country_codes: pl.DataFrame) -> pl.DataFrame:
    """The raw all-text Census rows plus their normalised key columns (`cty_code`,
    `hts_code`, `month`), the value and duty texts (`_value`, `_duty`) and the ISO origin of
    the country code (`country_of_origin`, null when unknown). `country_codes`: cty_code →
    country_of_origin (ISO alpha-2). Row order is kept. ValueError without value columns."""
    value_col, duty_col, _ = value_columns(raw.columns)
    return raw.with_columns(
        pl.col("CTY_CODE").str.strip_chars().str.zfill(4).alias("cty_code"),
        pl.col("I_COMMODITY").str.strip_chars().str.replace_all(r"\.", "").alias("hts_code"),
        pl.col("time").str.strip_chars().str.slice(0, 7).alias("month"),
        pl.col(value_col).str.strip_chars().alias("_value"),
        pl.col(duty_col).str.strip_chars().alias("_duty"),
    ).join(country_codes, on="cty_code", how="left", maintain_order="left")


def census_checks(columns: Sequence[str]) -> list[RowCheck]:
    """The row rules of a Census file over `parse_census` output: the grain rule counts only
    the rows that pass the others."""
    value_col, duty_col, _ = value_columns(columns)
    month_start = pl.col("month").str.to_date("%Y-%m", strict=False)
    checks = [
        RowCheck("I_COMMODITY", "hts10_format", ~pl.col("hts_code").str.contains(r"^\d{10}$").fill_null(False),
                 "I_COMMODITY must be a 10-digit HS code"),
        RowCheck("CTY_CODE", "cty_code_known", pl.col("country_of_origin").is_null(),
                 "CTY_CODE is not a Census country code that maps to ISO 3166-1"),
        RowCheck("time", "month_format",
                 month_start.is_null() | ~pl.col("month").str.contains(r"^\d{4}-\d{2}$").fill_null(False),
                 "time must be YYYY-MM"),
        *(
            RowCheck(column, "money_non_negative_2dp", ~pl.col(text).str.contains(_MONEY_TEXT).fill_null(False),
                     "value must be a number >= 0 with at most 2 decimals")
            for column, text in ((value_col, "_value"), (duty_col, "_duty"))
        ),
    ]
    passing = ~pl.any_horizontal(check.fails.fill_null(False) for check in checks)
    grain = ("month", "hts_code", "cty_code")
    return [
        *checks,
        RowCheck("I_COMMODITY", "grain_unique", passing & (passing.sum().over(grain) > 1),
                 "month x I_COMMODITY x CTY_CODE appears more than once",
                 value=pl.concat_str(*grain, separator="|")),
    ]


def stage_census(passed: pl.DataFrame) -> pl.DataFrame:
    """Rows that failed no check → `stg_census_lines`, sorted by month, HS10 and country code.
    Monthly rows cover their month; annual (year-to-date) rows cover 1 January to the end of
    their `time` month."""
    value_col, duty_col, annual = value_columns(passed.columns)
    start = pl.col("month").str.to_date("%Y-%m")
    return passed.select(
        pl.col(SOURCE_ROW).cast(pl.Int64),
        "month",
        "cty_code",
        "country_of_origin",
        "hts_code",
        customs_value_usd=pl.col("_value").cast(MONEY),
        calculated_duty_usd=pl.col("_duty").cast(MONEY),
        period_start=(pl.date(start.dt.year(), 1, 1) if annual else start),
        period_end=start.dt.offset_by("1mo"),
    ).sort("month", "hts_code", "cty_code")


def in_schedule(stg: pl.DataFrame, schedule: Schedule) -> pl.Series:
    """Whether each staged row's HTS8 is in the schedule's MFN table (priced) or not."""
    return stg.get_column("hts_code").str.slice(0, 8).is_in(schedule.mfn.get_column("hts8").implode())


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
