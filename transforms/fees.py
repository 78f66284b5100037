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
_POSITION = pl.int_range(pl.len(), dtype=pl.Int64)


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


def _check_one_date_per_entry(lines: pl.DataFrame, key: str = "entry_number") -> None:
    """FeeError when an entry's lines have several entry dates; `key` identifies the entry
    (entry_number, or an integer id of it)."""
    dates = lines.group_by(key).agg(pl.col("entry_date").n_unique().alias("dates"))
    if dates.filter(pl.col("dates") > 1).height == 0:
        return
    split = (
        lines.join(dates.filter(pl.col("dates") > 1).select(key), on=key, how="semi")
        .group_by("entry_number")
        .agg(pl.col("entry_date").unique().sort())
        .sort("entry_number")
    )
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
    """`<fee_id>_usd` (Decimal(18,2)) and `<fee_id>_flag` for every input line, in input order.

    `lines` has `_row` (0..n-1, the input order), `_entry` (an integer id per entry_number)
    and the REQUIRED_COLUMNS but total_duty_usd. Which lines a fee row covers is decided once
    per distinct (entry_date, transport_mode); the fee is computed once per entry; only the
    covered lines are sorted (by entry, remainder, line) to hand out the left-over cents."""
    matched = _row_per_date(lines.select("entry_date").unique(), rows, fee_id, source)
    coverage = (
        lines.select("entry_date", "transport_mode")
        .unique()
        .join(matched, on="entry_date", how="inner")
        .filter(
            (pl.col("transport_modes").str.strip_chars() == ALL_MODES)
            | pl.col("transport_modes").str.split(" ").list.contains(pl.col("transport_mode")).fill_null(False)
        )
        .select("entry_date", "transport_mode", "rate", "min_usd", "max_usd", "confidence", "fee_label")
    )
    covered = lines.select(
        "_row", "_entry", "entry_date", "transport_mode", "line_number",
        value_cents=(pl.col("customs_value_usd") * pl.lit(100)).cast(pl.Int64),
    ).join(coverage, on=["entry_date", "transport_mode"], how="inner", nulls_equal=True)
    # an entry has one entry date (checked), so one fee row: the fee is per entry
    per_entry = covered.group_by("_entry").agg(
        base_cents=pl.col("value_cents").cast(_CENTS).sum(),
        covered_lines=pl.len(),
        rate=pl.col("rate").first(),
        min_usd=pl.col("min_usd").first(),
        max_usd=pl.col("max_usd").first(),
    )
    # the exact fee on the exact base: cents / 100 as RATE is the covered value, exactly
    exact_fee = pl.col("rate").cast(RATE) * (pl.col("base_cents").cast(RATE) / pl.lit(100))
    clamped = (
        pl.when(pl.col("min_usd").is_not_null() & (exact_fee < pl.col("min_usd").cast(RATE)))
        .then(pl.col("min_usd").cast(RATE))
        .when(pl.col("max_usd").is_not_null() & (exact_fee > pl.col("max_usd").cast(RATE)))
        .then(pl.col("max_usd").cast(RATE))
        .otherwise(exact_fee)
    )
    fee_cents = (clamped.round(2, mode="half_away_from_zero").cast(MONEY) * pl.lit(100)).cast(_CENTS)
    per_entry = per_entry.select(
        "_entry",
        "base_cents",
        fee_cents=fee_cents,
        weight_total=pl.when(pl.col("base_cents") > 0)
        .then(pl.col("base_cents"))
        .otherwise(pl.col("covered_lines").cast(_CENTS)),
    )
    weight = pl.when(pl.col("base_cents") > 0).then(pl.col("value_cents").cast(_CENTS)).otherwise(
        pl.lit(1, dtype=_CENTS)
    )
    shares = (
        covered.join(per_entry, on="_entry", how="inner")
        .with_columns(share_numerator=pl.col("fee_cents") * weight)
        .with_columns(
            floor_cents=pl.col("share_numerator") // pl.col("weight_total"),
            remainder=pl.col("share_numerator") % pl.col("weight_total"),
        )
    )
    left_over = shares.group_by("_entry").agg(
        left_over=pl.col("fee_cents").first() - pl.col("floor_cents").sum()
    )
    ranked = (
        shares.select("_row", "_entry", "line_number", "remainder", "floor_cents", "confidence", "fee_label")
        .join(left_over, on="_entry", how="inner")
        .sort(["_entry", "remainder", "line_number", "_row"], descending=[False, True, False, False])
        # rank within the entry = position − position of the entry's first row (the frame is
        # sorted by entry: one pass, no per-entry window)
        .with_columns(
            rank=(
                _POSITION
                - pl.when(pl.col("_entry").ne_missing(pl.col("_entry").shift(1))).then(_POSITION).forward_fill()
            ).cast(_CENTS)
        )
    )
    allocated = ranked.select(
        "_row",
        cents=(pl.col("floor_cents") + (pl.col("rank") < pl.col("left_over")).cast(_CENTS)).cast(MONEY) * _ONE_CENT,
        flag=pl.when(pl.col("confidence") == "unconfirmed").then(pl.lit("unconfirmed:") + pl.col("fee_label")),
    )
    # back to input order by position (`_row` is 0..n-1): uncovered lines pay 0, no flag
    positions = allocated.get_column("_row")
    fee = pl.Series(f"{fee_id}_usd", [Decimal(0)], dtype=MONEY).new_from_index(0, lines.height)
    flag = pl.Series(f"{fee_id}_flag", [None], dtype=pl.Utf8).new_from_index(0, lines.height)
    return pl.DataFrame(
        [
            fee.scatter(positions, allocated.get_column("cents").cast(MONEY)),
            flag.scatter(positions, allocated.get_column("flag")),
        ]
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
    keys = lines_with_duty.select(*REQUIRED_COLUMNS[:-1]).with_row_index("_row").with_columns(
        _entry=pl.col("entry_number").rank("dense")
    )
    _check_one_date_per_entry(keys, "_entry")
    rows = fee_rows(schedule)
    fees = [_allocated_fee(keys, rows, fee_id, schedule.source) for fee_id in FEE_IDS]
    del keys
    return (
        pl.concat([lines_with_duty, *fees], how="horizontal")
        .with_columns(
            # a + b + c, not sum_horizontal: polars 2.1 ignores a cast of sum_horizontal from
            # Decimal(38,2) to Decimal(18,2)
            total_cost_usd=(pl.col("total_duty_usd") + pl.col("mpf_usd") + pl.col("hmf_usd")).cast(MONEY),
            fee_flags=pl.concat_str(
                [pl.col(f"{fee_id}_flag") for fee_id in FEE_IDS], separator=", ", ignore_nulls=True
            ).fill_null(""),
        )
        .drop(*[f"{fee_id}_flag" for fee_id in FEE_IDS])
    )

