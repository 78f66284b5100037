"""fct_ieepa_refunds: the IEEPA refund ledger, one row per customs line that carried IEEPA
duty (computed `ieepa_duty_usd` > 0; under the schedule that is entries from 2025-04-05 to
2026-02-23), the list a customs broker files refund claims from (tariff-rules.md, "Refunds
of IEEPA duties").

- `ieepa_duty_usd`: the computed IEEPA component of the line;
- `declared_ieepa_duty_usd`: where the line declared its duty, the declared duty less the
  computed non-IEEPA components (MFN, 232, other), floored at 0: the IEEPA duty the importer
  most likely paid (null without a declared duty);
- `ieepa_headings`: the line's chapter 99 headings that belong to IEEPA measures of the
  schedule (program `ieepa`), `ch99_headings` all of them;
- the refund status is an *estimate* as of `as_of_date` (the run date): the liquidation date
  is estimated as entry_date + the rules' liquidation lag, and the row of
  `refund_status_rules` whose window holds `as_of − estimated liquidation date` gives
  `refund_status`, `cape_eligible` and `refund_status_note`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from transforms.fct_duty_lines import sorted_by_line
from transforms.frames import looked_up
from transforms.schedule import Schedule
from transforms.vocabulary import MONEY

LINE_ID = ["entry_number", "line_number"]
IEEPA_PROGRAM = "ieepa"
STATUS_COLUMNS = ["estimated_liquidation_date", "as_of_date", "refund_status", "cape_eligible", "refund_status_note"]
MONEY_COLUMNS = ["customs_value_usd", "ieepa_duty_usd", "declared_duty_usd", "declared_ieepa_duty_usd"]

FCT_IEEPA_REFUNDS_COLUMNS = [
    "entry_number",
    "line_number",
    "entry_date",
    "month",
    "importer_id",
    "hts_code",
    "country_of_origin",
    "customs_value_usd",
    "ieepa_duty_usd",
    "declared_duty_usd",
    "declared_ieepa_duty_usd",
    "ieepa_headings",
    "ch99_headings",
    "estimated_liquidation_date",
    "as_of_date",
    "refund_status",
    "cape_eligible",
    "refund_status_note",
]


def ieepa_headings(schedule: Schedule) -> list[str]:
    """Every chapter 99 heading an IEEPA measure of the schedule can report."""
    ieepa = schedule.measures.filter(pl.col("program") == IEEPA_PROGRAM)
    headings = pl.concat([ieepa.get_column("heading"), ieepa.get_column("heading_at_or_above_cap")]).drop_nulls()
    return sorted(set(headings.to_list()) - {""})


def _declared_ieepa() -> pl.Expr:
    """The declared duty less the computed non-IEEPA components, floored at 0; the
    non-IEEPA components are total_duty_usd − ieepa_duty_usd, exactly (fct_duty_lines'
    contract: the total is the exact sum of its components), so that of the lines only the
    total is read besides the ledger's own columns, not the three components."""
    rest = (pl.col("declared_duty_usd") - (pl.col("total_duty_usd") - pl.col("ieepa_duty_usd"))).cast(MONEY)
    zero = pl.lit(Decimal(0), dtype=MONEY)
    return pl.when(rest < zero).then(zero).otherwise(rest).cast(MONEY)


def with_refund_status(ledger: pl.DataFrame, rules: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """The ledger plus the status columns, worked out once per distinct entry date (the status
    depends on the entry date only) and placed beside the lines (joined to them where some
    date has no status or several)."""
    lag_days = rules.get_column("liquidation_lag_days")[0]
    dated = ledger.select(pl.col("entry_date").unique()).with_columns(
        estimated_liquidation_date=pl.col("entry_date") + pl.duration(days=lag_days),
        as_of_date=pl.lit(as_of, dtype=pl.Date),
    ).with_columns(
        days_after_liquidation=(pl.col("as_of_date") - pl.col("estimated_liquidation_date")).dt.total_days()
    )
    window = (
        pl.col("days_after_liquidation_from").is_null()
        | (pl.col("days_after_liquidation_from") <= pl.col("days_after_liquidation"))
    ) & (
        pl.col("days_after_liquidation_to").is_null()
        | (pl.col("days_after_liquidation") < pl.col("days_after_liquidation_to"))
    )
    statuses = rules.select(
        "days_after_liquidation_from",
        "days_after_liquidation_to",
        refund_status="status",
        cape_eligible="cape_eligible",
        refund_status_note="note",
    )
    per_date = dated.join(statuses, how="cross").filter(window).select(
        "entry_date", *STATUS_COLUMNS
    )
    dates = per_date.get_column("entry_date")
    if dates.null_count() == 0 and dates.n_unique() == per_date.height == dated.height:
        # one status per date, for every line: each status column is placed beside the
        # ledger, whose columns are then never copied; one with the same value on every date
        # (the as-of date, the note, usually the status) as a literal (5M census lines:
        # joining the status columns to the lines, then making literals of them, took 0.13
        # GiB more)
        return ledger.with_columns(
            looked_up("entry_date", dates, per_date.get_column(column)).alias(column) for column in STATUS_COLUMNS
        )
    return ledger.join(per_date, on="entry_date", how="inner", maintain_order="left")


def build_fct_ieepa_refunds(
    fct_duty_lines: pl.DataFrame, schedule: Schedule, refund_status_rules: pl.DataFrame, as_of: dt.date
) -> pl.DataFrame:
    """The refund ledger of the lines (fct_duty_lines columns) as of `as_of` (the run date).
    `refund_status_rules` is the checked frame of `flows.inputs.refund_rules.read_refund_status_rules`
    (its windows tile the days, so every line gets exactly one status)."""
    headings = ieepa_headings(schedule)
    # only the columns the ledger reads, then the lines with IEEPA duty (eagerly: a lazy
    # filter hands back many chunks, 79 on 5M census lines, which the roll-up's group_by
    # then copies: 0.69 GiB at its peak instead of 0.16)
    ledger = fct_duty_lines.select(
        *[c for c in FCT_IEEPA_REFUNDS_COLUMNS if c in fct_duty_lines.columns], "total_duty_usd"
    ).filter(pl.col("ieepa_duty_usd") > 0)
    # the IEEPA headings of each distinct ch99_headings text (a few hundred), not of each line
    by_text = ledger.select(pl.col("ch99_headings").unique()).with_columns(
        ieepa_headings=pl.col("ch99_headings")
        .str.split(", ")
        .list.filter(pl.element().is_in(headings))
        .list.join(", "),
    )
    # the two new columns computed (lazily: the declared IEEPA expression names its difference
    # twice, computed once) and placed beside the ledger, whose columns are not copied again;
    # the total they read is dropped at once
    ledger = ledger.hstack(
        ledger.lazy()
        .select(
            ieepa_headings=pl.col("ch99_headings").replace_strict(
                by_text.get_column("ch99_headings"), by_text.get_column("ieepa_headings"), default=None
            ),
            declared_ieepa_duty_usd=pl.when(pl.col("declared_duty_usd").is_not_null()).then(_declared_ieepa()),
        )
        .collect()
        .rechunk()
        .get_columns()
    ).drop("total_duty_usd")
    # the joins keep the order of fct_duty_lines (by line): sorted_by_line sorts only if not
    return (
        with_refund_status(ledger, refund_status_rules, as_of)
        .select(FCT_IEEPA_REFUNDS_COLUMNS)
        .with_columns(pl.col(MONEY_COLUMNS).cast(MONEY))
        .pipe(sorted_by_line)
    )
