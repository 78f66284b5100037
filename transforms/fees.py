"""Entry-level fees: the Merchandise Processing Fee (MPF) and the Harbor Maintenance Fee (HMF).

Fees are schedule data (`Schedule.fees`, one row per fee_id × effective window), like rates.
For every entry and fee:

1. the fee row is the one whose half-open window `valid_from <= entry_date < valid_to`
   contains the entry date (an entry has a single entry date);
2. the fee base is the value of the entry's lines whose `transport_mode` the row covers
   (`transport_modes` is space-separated, `*` covers every mode: MPF `*`, HMF `vessel`);
3. the entry fee is `rate × base`, clamped to the row's `min_usd` / `max_usd` (either may be
   null), rounded once to the cent, half away from zero;
4. the entry fee is allocated to the covered lines in proportion to value by largest
   remainder (in integer cents): each line gets the floor of its exact share, and the cents
   left over go one each to the lines with the largest fractional remainders, ties broken by
   the lower `line_number`. The allocations sum to the entry fee exactly and each is within
   one cent of the exact share. An entry whose covered lines are all worth 0 (the MPF
   minimum still applies) is shared equally the same way.

Every entry is treated as a formal entry (the input has no entry type). Lines whose fee rows
are `unconfirmed` carry `unconfirmed:<fee>_fy<fiscal year of the row's start>` in
`fee_flags` (e.g. `unconfirmed:mpf_fy2027`); the run report (flows/summary.py) warns about
them with the row's confidence note (`fee_rows` gives the label of each row).
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from transforms.schedule import MONEY, RATE, Schedule, in_force_on

FEE_IDS = ("mpf", "hmf")
ALL_MODES = "*"
FEE_COLUMNS = ["mpf_usd", "hmf_usd", "total_cost_usd", "fee_flags"]
REQUIRED_COLUMNS = [
    "entry_number",
    "line_number",
    "entry_date",
    "customs_value_usd",
    "transport_mode",
    "total_duty_usd",
]

_CENTS = pl.Int128
_ONE_CENT = pl.lit(Decimal("0.01"), dtype=MONEY)


class FeeError(ValueError):
    """The lines or the schedule's fee rows do not allow computing the fees."""


def fee_rows(schedule: Schedule) -> pl.DataFrame:
    """The schedule's fee rows plus `fee_label`: `<fee_id>_fy<US fiscal year of valid_from>`
    (the federal fiscal year starting 1 October: a row from 2026-10-01 is `mpf_fy2027`)."""
    fiscal_year = pl.col("valid_from").dt.year() + (pl.col("valid_from").dt.month() >= 10).cast(pl.Int32)
    return schedule.fees.with_columns(
        fee_label=pl.col("fee_id") + pl.lit("_fy") + fiscal_year.cast(pl.Utf8)
    )


def _check_columns(lines: pl.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in lines.columns]
    if missing:
        raise FeeError(f"entry_fees: input lines lack column(s) {', '.join(missing)}")


def _check_one_date_per_entry(lines: pl.DataFrame) -> None:
    split = (
        lines.group_by("entry_number")
        .agg(pl.col("entry_date").unique().sort())
        .filter(pl.col("entry_date").list.len() > 1)
        .sort("entry_number")
    )
    if split.height:
        examples = "; ".join(
            f"{row['entry_number']}: {', '.join(str(d) for d in row['entry_date'])}"
            for row in split.head(5).to_dicts()
        )
        raise FeeError(
            f"entry_fees: column entry_date: {split.height} entr(y/ies) have lines with "
            f"different entry dates (rule: one entry date per entry): {examples}"
        )


def _row_per_date(dates: pl.DataFrame, rows: pl.DataFrame, fee_id: str, source: str) -> pl.DataFrame:
    """For each distinct entry date, the one fee row of `fee_id` in force; a date with none
    or with several is a schedule error."""
    matched = dates.join(rows.filter(pl.col("fee_id") == fee_id), how="cross").filter(
        in_force_on(pl.col("valid_from"), pl.col("valid_to"), pl.col("entry_date"))
    )
    counts = dates.join(matched.group_by("entry_date").len(), on="entry_date", how="left").with_columns(
        pl.col("len").fill_null(0)
    )
    bad = counts.filter(pl.col("len") != 1).sort("entry_date")
    if bad.height:
        detail = ", ".join(f"{r['entry_date']} ({r['len']} rows)" for r in bad.head(5).to_dicts())
        raise FeeError(
            f"schedule {source}: fees: fee_id {fee_id!r} must have exactly one row in force on "
            f"each entry date (valid_from <= entry_date < valid_to); offending dates: {detail}"
        )
    return matched


def _allocated_fee(lines: pl.DataFrame, rows: pl.DataFrame, fee_id: str, source: str) -> pl.DataFrame:
    """`_row`, `<fee_id>_usd` (Decimal(18,2)) and `<fee_id>_flag` for every input line."""
    matched = _row_per_date(lines.select("entry_date").unique(), rows, fee_id, source)
    covered = (
        lines.join(matched, on="entry_date", how="inner")
        .filter(
            (pl.col("transport_modes").str.strip_chars() == ALL_MODES)
            | pl.col("transport_modes").str.split(" ").list.contains(pl.col("transport_mode"))
        )
        .with_columns(value_cents=(pl.col("customs_value_usd") * pl.lit(100)).cast(_CENTS))
    )
    entry = pl.col("entry_number")
    base_cents = pl.col("value_cents").sum().over(entry)
    exact_fee = pl.col("rate").cast(RATE) * (pl.col("customs_value_usd").cast(RATE).sum().over(entry))
    clamped = (
        pl.when(pl.col("min_usd").is_not_null() & (exact_fee < pl.col("min_usd").cast(RATE)))
        .then(pl.col("min_usd").cast(RATE))
        .when(pl.col("max_usd").is_not_null() & (exact_fee > pl.col("max_usd").cast(RATE)))
        .then(pl.col("max_usd").cast(RATE))
        .otherwise(exact_fee)
    )
    fee_cents = (clamped.round(2, mode="half_away_from_zero").cast(MONEY) * pl.lit(100)).cast(_CENTS)
    weight = pl.when(base_cents > 0).then(pl.col("value_cents")).otherwise(pl.lit(1, dtype=_CENTS))
    shares = covered.with_columns(fee_cents=fee_cents, weight=weight).with_columns(
        weight_total=pl.col("weight").sum().over(entry),
        share_numerator=pl.col("fee_cents") * pl.col("weight"),
    ).with_columns(
        floor_cents=pl.col("share_numerator") // pl.col("weight_total"),
        remainder=pl.col("share_numerator") % pl.col("weight_total"),
    )
    allocated = (
        shares.with_columns(left_over=pl.col("fee_cents") - pl.col("floor_cents").sum().over(entry))
        .sort(["entry_number", "remainder", "line_number", "_row"], descending=[False, True, False, False])
        .with_columns(rank=pl.int_range(pl.len(), dtype=_CENTS).over(entry))
        .select(
            "_row",
            (pl.col("floor_cents") + (pl.col("rank") < pl.col("left_over")).cast(_CENTS)).alias("cents"),
            pl.when(pl.col("confidence") == "unconfirmed")
            .then(pl.lit("unconfirmed:") + pl.col("fee_label"))
            .alias(f"{fee_id}_flag"),
        )
    )
    return (
        lines.select("_row")
        .join(allocated, on="_row", how="left")
        .select(
            "_row",
            (pl.col("cents").fill_null(0).cast(MONEY) * _ONE_CENT).cast(MONEY).alias(f"{fee_id}_usd"),
            f"{fee_id}_flag",
        )
    )


def entry_fees(lines_with_duty: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """The input lines (same rows, same order) plus `mpf_usd`, `hmf_usd` (Decimal(18,2)),
    `total_cost_usd` = total_duty_usd + mpf_usd + hmf_usd, and `fee_flags` (", "-joined,
    "" when none).

    Needs entry_number, line_number, entry_date, customs_value_usd, transport_mode and
    total_duty_usd. Raises FeeError when an entry has several entry dates or when an entry
    date has no (or more than one) row of a fee in the schedule.
    """
    _check_columns(lines_with_duty)
    _check_one_date_per_entry(lines_with_duty)
    lines = lines_with_duty.with_row_index("_row")
    keys = lines.select("_row", *REQUIRED_COLUMNS[:-1])
    rows = fee_rows(schedule)
    out = lines
    for fee_id in FEE_IDS:
        out = out.join(_allocated_fee(keys, rows, fee_id, schedule.source), on="_row", how="left")
    return (
        out.sort("_row")
        .with_columns(
            # a + b + c, not sum_horizontal: polars 2.1 ignores a cast of sum_horizontal from
            # Decimal(38,2) to Decimal(18,2)
            total_cost_usd=(pl.col("total_duty_usd") + pl.col("mpf_usd") + pl.col("hmf_usd")).cast(MONEY),
            fee_flags=pl.concat_str(
                [pl.col(f"{fee_id}_flag") for fee_id in FEE_IDS], separator=", ", ignore_nulls=True
            ).fill_null(""),
        )
        .drop("_row", *[f"{fee_id}_flag" for fee_id in FEE_IDS])
    )

