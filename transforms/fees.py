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
`fee_flags` (e.g. `unconfirmed:mpf_fy2027`); the run report (flows/present/summary.py) warns about
them with the row's confidence note (`fee_rows` gives the label of each row).

How: the lines are taken in entry order (kept as given when each entry's lines are already
together and by line_number, the usual case; sorted otherwise). What a fee row covers and
flags is decided once per (entry date, transport mode) cell; per-entry sums are differences
of running sums at each entry's last line; money is integer cents (Int64, or Int128 when a
product could overflow); the only sort per fee ranks each entry's remainders.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from transforms.schedule import Schedule, in_force_on
from transforms.vocabulary import MONEY, RATE

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
_POSITION = pl.int_range(pl.len(), dtype=pl.get_index_type())
_INT64_LIMIT = 2**63
_RATE_UNITS = 10**10  # RATE has 10 decimals: a RATE value × 10**10 is an integer


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


def _max_abs(values: pl.Series) -> int:
    low, high = values.min(), values.max()
    return max(abs(low or 0), abs(high or 0))


def _entry_starts(entry: pl.Expr) -> pl.Expr:
    """True on the first line of each entry (the lines of an entry being together)."""
    return (_POSITION == 0) | entry.ne_missing(entry.shift(1))


@dataclass(frozen=True)
class _EntryLines:
    """The key columns of the input lines in working order: each entry's lines together, the
    entries numbered `_entry` = 0, 1, ... in that order, an entry's lines by line_number then
    input row. `order` is the input row of each working row (None: the input is in working
    order already); `starts` marks each entry's first line; `ends` is the working position of
    each entry's last line, by `_entry`."""

    lines: pl.DataFrame
    order: pl.Series | None
    starts: pl.Series
    ends: pl.Series

    def sums(self, values: pl.DataFrame) -> pl.DataFrame:
        """One row per entry (by `_entry`): the sum of each column of `values` (aligned with
        `lines`; nulls count 0, booleans count their trues) over the entry's lines, as the
        difference of running sums at the entries' last lines. An Int64 column is summed as
        Int128 when its running sum could overflow."""
        wide = [
            name
            for name, column in values.to_dict().items()
            if column.dtype == pl.Int64 and _max_abs(column) * column.len() >= _INT64_LIMIT
        ]
        at_ends = values.with_columns(pl.col(wide).cast(_CENTS)).select(
            pl.all().fill_null(0).cum_sum().gather(pl.lit(self.ends))
        )
        return at_ends.select(pl.all() - pl.all().shift(1, fill_value=0))


def _entry_lines(lines: pl.DataFrame) -> _EntryLines:
    """The lines in working order. Inputs usually have each entry's lines together and by
    line_number, which one pass checks (entries together: no entry number starts two runs;
    equal hashes only send the lines to the sort); otherwise the lines are sorted by entry
    and line_number, stably (equal line numbers keep the input order)."""
    keys = lines.select(*REQUIRED_COLUMNS[:-1])
    checks = keys.select(
        starts=_entry_starts(pl.col("entry_number")),
        by_line=(_entry_starts(pl.col("entry_number")) | (pl.col("line_number") >= pl.col("line_number").shift(1)))
        .fill_null(False)
        .all(),
    )
    starts = checks.get_column("starts")
    run_heads = keys.get_column("entry_number").filter(starts)
    order = None
    if not (checks.get_column("by_line").all() and run_heads.hash().n_unique() == run_heads.len()):
        # an integer id per entry number by hashing (sorting the strings costs far more),
        # then a stable sort by (id, line_number): on one UInt64 key when line numbers fit
        # 32 bits (several times faster than sorting two columns)
        groups = keys.with_row_index("_row").group_by("entry_number").agg("_row").get_column("_row")
        entry_id = (
            pl.Series([0], dtype=pl.UInt64)
            .new_from_index(0, keys.height)
            .scatter(groups.explode(), pl.int_range(groups.len(), eager=True).repeat_by(groups.list.len()).explode())
        )
        line_number = keys.get_column("line_number")
        if line_number.null_count() == 0 and 0 <= (line_number.min() or 0) and (line_number.max() or 0) < 2**32:
            sort_by = [pl.lit(entry_id * 2**32 + line_number.cast(pl.UInt64))]
        else:
            sort_by = [pl.lit(entry_id), pl.col("line_number")]
        order = keys.select(pl.arg_sort_by(sort_by, maintain_order=True)).to_series()
        keys = keys.select(pl.all().gather(order))
        starts = keys.select(_entry_starts(pl.col("entry_number"))).to_series()
    last_lines = starts.arg_true().slice(1) - 1
    if keys.height:
        last_lines.append(pl.Series([keys.height - 1], dtype=last_lines.dtype))
    return _EntryLines(
        lines=keys.with_columns(_entry=starts.cum_sum() - 1),
        order=order,
        starts=starts,
        ends=last_lines,
    )


def _check_one_date_per_entry(entries: _EntryLines) -> None:
    """FeeError when an entry's lines have several entry dates."""
    lines = entries.lines
    date_changes = ~entries.starts & lines.get_column("entry_date").ne_missing(lines.get_column("entry_date").shift(1))
    if not date_changes.any():
        return
    split = (
        lines.filter(pl.col("_entry").is_in(lines.get_column("_entry").filter(date_changes).implode()))
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


@dataclass(frozen=True)
class _FeeCells:
    """A line's fee rows, coverage and flags depend only on its entry date and transport
    mode: one cell per (distinct entry date, distinct mode or null), plus a last cell for the
    lines without an entry number (in no entry: no fee).

    `cells` has `<fee_id>_covered` and the cell's `fee_flags`; `line_cell` is each working
    line's cell; `rows[fee_id]` holds the rate, min_usd and max_usd in force per entry date
    as integers in units of 1e-10 USD, gathered per entry (by `_entry`)."""

    cells: pl.DataFrame
    line_cell: pl.Series
    rows: dict[str, pl.DataFrame]


def _fee_cells(entries: _EntryLines, fee_rows_: pl.DataFrame, source: str) -> _FeeCells:
    entry_dates = entries.lines.get_column("entry_date").filter(entries.starts)
    dates = entry_dates.unique().sort().to_frame()
    matched = {fee_id: _row_per_date(dates, fee_rows_, fee_id, source).sort("entry_date") for fee_id in FEE_IDS}
    date_of_entry = dates.get_column("entry_date").search_sorted(entry_dates)
    modes = entries.lines.get_column("transport_mode").drop_nulls().unique().sort()
    mode_codes = modes.len() + 1  # the modes, then null
    cells = dates.with_row_index("_date").join(
        pl.concat([modes, pl.Series([None], dtype=pl.Utf8)]).to_frame().with_row_index("_mode"), how="cross"
    )
    for fee_id, rows in matched.items():
        cells = cells.join(
            rows.select("entry_date", "transport_modes", "confidence", "fee_label"), on="entry_date", how="left"
        ).select(
            pl.exclude("transport_modes", "confidence", "fee_label"),
            **{
                f"{fee_id}_covered": (
                    (pl.col("transport_modes").str.strip_chars() == ALL_MODES)
                    | pl.col("transport_modes").str.split(" ").list.contains(pl.col("transport_mode")).fill_null(False)
                ).fill_null(False),
                f"{fee_id}_flag": pl.when(pl.col("confidence") == "unconfirmed").then(
                    pl.lit("unconfirmed:") + pl.col("fee_label")
                ),
            },
        )
    no_entry = {c: None for c in cells.columns} | {f"{fee_id}_covered": False for fee_id in FEE_IDS}
    cells = (
        pl.concat([cells.sort("_date", "_mode"), pl.DataFrame([no_entry], schema=cells.schema)])
        .select(
            *[f"{fee_id}_covered" for fee_id in FEE_IDS],
            fee_flags=pl.concat_str(
                [pl.when(pl.col(f"{fee_id}_covered")).then(pl.col(f"{fee_id}_flag")) for fee_id in FEE_IDS],
                separator=", ",
                ignore_nulls=True,
            ).fill_null(""),
        )
    )
    line_cell = entries.lines.select(
        pl.when(pl.col("entry_number").is_null())
        .then(pl.lit(cells.height - 1, dtype=pl.UInt32))
        .otherwise(
            pl.lit(date_of_entry.cast(pl.UInt32)).gather(pl.col("_entry")) * mode_codes
            + pl.col("transport_mode").cast(pl.Enum(modes)).to_physical().cast(pl.UInt32).fill_null(mode_codes - 1)
        )
    ).to_series()
    rows = {
        fee_id: rows.select(
            (pl.col(c).cast(RATE) * pl.lit(_RATE_UNITS)).cast(_CENTS).gather(pl.lit(date_of_entry))
            for c in ("rate", "min_usd", "max_usd")
        )
        for fee_id, rows in matched.items()
    }
    return _FeeCells(cells=cells, line_cell=line_cell, rows=rows)


def _divide_rounded(numerator: pl.Expr, divisor: int, dtype: pl.DataType, *, half_even: bool) -> pl.Expr:
    """Integer numerator / divisor (even, > 0) rounded to an integer of `dtype`: the half to
    even, or away from zero."""
    half = divisor // 2
    if half_even:
        quotient, rest = numerator // divisor, numerator % divisor  # floor; rest in [0, divisor)
        return quotient + ((rest > half) | ((rest == half) & (quotient % 2 == 1))).cast(dtype)
    magnitude = (numerator.abs() + half) // divisor
    return pl.when(numerator < 0).then(pl.lit(0, dtype=dtype) - magnitude).otherwise(magnitude)


def _entry_fee_cents(entries: _EntryLines, cells: _FeeCells, lines: pl.DataFrame) -> pl.DataFrame:
    """One row per entry (by `_entry`) with, per fee, `<fee>_positive` (its covered value is
    > 0), the entry fee `<fee>_cents` and `<fee>_weights`, the sum of the covered lines'
    weights (Int128). An entry without covered lines pays 0 (and has weight 1).

    The fee is computed as it always was in Decimal(38,10) — rate × value, which polars rounds
    to 10 places half to even, clamped to min_usd / max_usd, rounded half away from zero to
    the cent — but in integer units of 1e-10 USD."""
    sums = entries.sums(
        lines.select(
            *[
                pl.when(pl.col(f"{f}_covered")).then(pl.col("value_cents")).otherwise(0).alias(f"{f}_base")
                for f in FEE_IDS
            ],
            *[pl.col(f"{f}_covered").alias(f"{f}_lines") for f in FEE_IDS],
        )
    )
    per_entry = pl.concat(
        [sums, *[cells.rows[f].select(pl.all().name.prefix(f"{f}_")) for f in FEE_IDS]], how="horizontal"
    )
    # Int64 when rate × value (and the bounds, with room for rounding) fit it, else Int128:
    # the same integers either way
    exact = (
        pl.Int64
        if all(
            max(
                _max_abs(per_entry.get_column(f"{f}_rate")) * _max_abs(per_entry.get_column(f"{f}_base")),
                *(_max_abs(per_entry.get_column(f"{f}_{c}")) for c in ("lines", "min_usd", "max_usd")),
            )
            < _INT64_LIMIT // 2
            for f in FEE_IDS
        )
        else _CENTS
    )
    # rate (units of 1e-10) × value (cents) is in units of 1e-12 USD
    per_entry = (
        per_entry.select(pl.all().cast(exact))
        .with_columns(pl.col(f"{f}_rate") * pl.col(f"{f}_base") for f in FEE_IDS)
        .with_columns(_divide_rounded(pl.col(f"{f}_rate"), 100, exact, half_even=True) for f in FEE_IDS)
    )
    clamped = {
        f: pl.when(pl.col(f"{f}_min_usd").is_not_null() & (pl.col(f"{f}_rate") < pl.col(f"{f}_min_usd")))
        .then(pl.col(f"{f}_min_usd"))
        .when(pl.col(f"{f}_max_usd").is_not_null() & (pl.col(f"{f}_rate") > pl.col(f"{f}_max_usd")))
        .then(pl.col(f"{f}_max_usd"))
        .otherwise(pl.col(f"{f}_rate"))
        for f in FEE_IDS
    }
    return per_entry.with_columns(**{f"{f}_clamped": clamped[f] for f in FEE_IDS}).select(
        *[(pl.col(f"{f}_base") > 0).alias(f"{f}_positive") for f in FEE_IDS],
        *[
            pl.when(pl.col(f"{f}_lines") > 0)
            .then(_divide_rounded(pl.col(f"{f}_clamped"), _RATE_UNITS // 100, exact, half_even=False))
            .otherwise(pl.lit(0, dtype=exact))
            .cast(_CENTS)
            .alias(f"{f}_cents")
            for f in FEE_IDS
        ],
        *[
            pl.when(pl.col(f"{f}_base") > 0)
            .then(pl.col(f"{f}_base"))
            .otherwise(pl.col(f"{f}_lines").clip(lower_bound=1))
            .cast(_CENTS)
            .alias(f"{f}_weights")
            for f in FEE_IDS
        ],
    )


def _extra_cent_lines(shares: pl.DataFrame, left_over: pl.Series, fee_id: str) -> pl.Series:
    """The working positions of the lines that get one of their entry's left-over cents: the
    covered lines with the largest remainders, ties to the lower line_number then input row
    (the working order, which the stable sort keeps). A remainder of 0 never gets one (an
    entry's remainders sum to left-over × weights, each below weights); a null one (a null
    value) sorts first, as it always has."""
    entry = shares.get_column("_entry")
    candidate = shares.select(
        pl.col(f"{fee_id}_covered")
        & (pl.lit(left_over).gather(pl.col("_entry")) > 0)
        & pl.col(f"{fee_id}_remainder").ne_missing(0)
    ).to_series()
    candidates = pl.select(
        _entry=entry.filter(candidate),
        remainder=shares.get_column(f"{fee_id}_remainder").filter(candidate),
    ).with_columns(left_over=pl.lit(left_over).gather(pl.col("_entry")))
    by_remainder = candidates.select(
        pl.arg_sort_by("_entry", "remainder", descending=[False, True], maintain_order=True)
    ).to_series()
    # sorted by entry first, the k-th candidate in remainder order is in the same entry as the
    # k-th in working order: its rank in the entry is k − the entry's first position
    wins = candidates.select(
        _POSITION - pl.when(_entry_starts(pl.col("_entry"))).then(_POSITION).forward_fill() < pl.col("left_over")
    ).to_series()
    return candidate.arg_true().gather(by_remainder.filter(wins))


def _allocated_cents(entries: _EntryLines, lines: pl.DataFrame, per_entry: pl.DataFrame) -> pl.DataFrame:
    """Per working line and fee, `<fee>_cents`: the entry fee shared over the covered lines
    by largest remainder (0 on the other lines). Int64 when no product can overflow it, else
    Int128: the same integers either way."""
    largest_weight = max(_max_abs(lines.get_column("value_cents")), 1)
    exact = (
        _CENTS
        if any(
            _max_abs(per_entry.get_column(f"{f}_cents")) * largest_weight >= _INT64_LIMIT
            or _max_abs(per_entry.get_column(f"{f}_weights")) >= _INT64_LIMIT
            for f in FEE_IDS
        )
        else pl.Int64
    )
    shares = pl.concat(
        [lines, per_entry.with_columns(pl.col(_CENTS).cast(exact)).select(pl.all().gather(lines.get_column("_entry")))],
        how="horizontal",
    ).with_columns(value_cents=pl.col("value_cents").cast(exact))
    # a line's exact share is fee × weight / weights: weight = value cents, or 1 per line when
    # the entry's covered value is 0
    shares = shares.with_columns(
        (
            pl.col(f"{f}_cents")
            * pl.when(pl.col(f"{f}_positive")).then(pl.col("value_cents")).otherwise(pl.lit(1, dtype=exact))
        ).alias(f"{f}_numerator")
        for f in FEE_IDS
    ).select(
        "_entry",
        *[
            col
            for f in FEE_IDS
            for col in (
                pl.col(f"{f}_covered"),
                pl.when(pl.col(f"{f}_covered"))
                .then(pl.col(f"{f}_numerator") // pl.col(f"{f}_weights"))
                .otherwise(pl.lit(0, dtype=exact))
                .alias(f"{f}_floor"),
                (pl.col(f"{f}_numerator") % pl.col(f"{f}_weights")).alias(f"{f}_remainder"),
            )
        ],
    )
    floors = entries.sums(shares.select(f"{f}_floor" for f in FEE_IDS))
    allocated = {}
    for f in FEE_IDS:
        left_over = per_entry.get_column(f"{f}_cents").cast(exact) - floors.get_column(f"{f}_floor").cast(exact)
        winners = _extra_cent_lines(shares, left_over, f)
        floor = shares.get_column(f"{f}_floor")
        allocated[f"{f}_cents"] = floor.scatter(winners, floor.gather(winners) + pl.Series([1], dtype=exact))
    return pl.DataFrame(allocated)


def _money(cents: pl.Expr) -> pl.Expr:
    """Integer cents as Decimal(18,2): as Decimal(18,0) × 0.01 (exact, and cheaper than a
    cast of the cents to Decimal(18,2) first)."""
    return (cents.cast(pl.Decimal(18, 0)) * _ONE_CENT).cast(MONEY)


def entry_fees(lines_with_duty: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    """The input lines (same rows, same order) plus `mpf_usd`, `hmf_usd` (Decimal(18,2)),
    `total_cost_usd` = total_duty_usd + mpf_usd + hmf_usd, and `fee_flags` (", "-joined,
    "" when none).

    Needs entry_number, line_number, entry_date, customs_value_usd, transport_mode and
    total_duty_usd. Raises FeeError when an entry has several entry dates or when an entry
    date has no (or more than one) row of a fee in the schedule.
    """
    _check_columns(lines_with_duty)
    entries = _entry_lines(lines_with_duty)
    _check_one_date_per_entry(entries)
    cells = _fee_cells(entries, fee_rows(schedule), schedule.source)
    lines = entries.lines.select(
        "_entry",
        value_cents=(pl.col("customs_value_usd") * pl.lit(100)).cast(pl.Int64),
        **{
            f"{f}_covered": pl.lit(cells.cells.get_column(f"{f}_covered")).gather(pl.lit(cells.line_cell))
            for f in FEE_IDS
        },
    )
    cents = _allocated_cents(entries, lines, _entry_fee_cents(entries, cells, lines))
    flags = cells.cells.get_column("fee_flags")
    fees = cents.select(
        *[_money(pl.col(f"{f}_cents")).alias(f"{f}_usd") for f in FEE_IDS],
        # usually no line has a flag: one value, no gather
        fee_flags=pl.repeat(flags[0], cents.height, dtype=pl.Utf8)
        if flags.n_unique() == 1
        else pl.lit(flags).gather(pl.lit(cells.line_cell)),
    )
    if entries.order is not None:  # back to input order
        fees = fees.select(pl.all().gather(entries.order.arg_sort()))
    return pl.concat([lines_with_duty, fees.drop("fee_flags")], how="horizontal").with_columns(
        # a + b + c, not sum_horizontal: polars 2.1 ignores a cast of sum_horizontal from
        # Decimal(38,2) to Decimal(18,2)
        total_cost_usd=(pl.col("total_duty_usd") + pl.col("mpf_usd") + pl.col("hmf_usd")).cast(MONEY),
        fee_flags=fees.get_column("fee_flags"),
    )
