"""Column contracts and dataset checks shared by the mart schemas: one definition of what a
money column, an HTS code, a month or an entry key is, used by every table that has one."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from transforms.order import after_previous_row, rows_in_order
from transforms.vocabulary import MONEY

EFFECTIVE_RATE = pl.Decimal(18, 6)
COMPONENTS = ["mfn_duty_usd", "section_232_duty_usd", "ieepa_duty_usd", "other_duty_usd"]


def month() -> pa.Column:
    """`YYYY-MM`."""
    return pa.Column(pl.Utf8, pa.Check.str_matches(r"^[0-9]{4}-(0[1-9]|1[0-2])$"))


def run_id() -> pa.Column:
    """The run that published the row (`runs.run_id`): added at publish, so a mart frame is
    checked without it and the column is not required."""
    return pa.Column(pl.Utf8, required=False)


def hts_code() -> pa.Column:
    """10 digits, no dots."""
    return pa.Column(pl.Utf8, pa.Check.str_matches(r"^[0-9]{10}$"))


def country_of_origin() -> pa.Column:
    """ISO 3166-1 alpha-2."""
    return pa.Column(pl.Utf8, pa.Check.str_matches(r"^[A-Z]{2}$"))


def entry_number() -> pa.Column:
    """Normalised CBP entry number: filer code + 7 digits + check digit, no dashes."""
    return pa.Column(pl.Utf8, pa.Check.str_matches(r"^[A-Z0-9]{3}[0-9]{8}$"))


def line_number() -> pa.Column:
    return pa.Column(pl.Int64, pa.Check.ge(1))


def duty() -> pa.Column:
    """A non-negative amount of money."""
    return pa.Column(MONEY, pa.Check.ge(0))


def effective_rate() -> pa.Column:
    """A non-negative fraction; null where the value is 0."""
    return pa.Column(EFFECTIVE_RATE, pa.Check.ge(0), nullable=True)


def _money_sum(columns: list[str]) -> pl.Expr:
    total = pl.lit(0, pl.Decimal(38, 2))
    for column in columns:
        total = total + pl.col(column)
    return total


def total_is_sum_of_components() -> pa.Check:
    """total_duty_usd = MFN + Section 232 + IEEPA + other, exactly."""
    return pa.Check(
        lambda data: data.lazyframe.select(pl.col("total_duty_usd") == _money_sum(COMPONENTS)),
        name="total_duty_is_sum_of_components",
    )


def cost_is_duty_plus_fees() -> pa.Check:
    """total_cost_usd = total duty + MPF + HMF, exactly."""
    return pa.Check(
        lambda data: data.lazyframe.select(
            pl.col("total_cost_usd") == _money_sum(["total_duty_usd", "mpf_usd", "hmf_usd"])
        ),
        name="total_cost_is_duty_plus_fees",
    )


def grain_is_unique(grain: list[str]) -> pa.Check:
    """No two rows share the grain (what `unique=grain` checks). Rows strictly increasing on
    the grain (the line marts keep the line order) are unique, which one pass comparing each
    row with the one before proves; otherwise every row whose grain another row has fails."""

    def check(data: pa.PolarsData) -> bool | pl.LazyFrame:
        if data.lazyframe.select(rows_in_order(grain, strict=True)).collect().item():
            return True
        return data.lazyframe.select(~pl.struct(grain).is_duplicated())

    return pa.Check(check, name="grain_is_unique")


def strictly_increasing_rows(data: pa.PolarsData) -> pl.LazyFrame:
    """Row-level: the checked column is greater than in the row before (the first row
    passes). For a row number (`source_row`): in file order without repeats, so unique, in
    one pass without hashing."""
    return data.lazyframe.select(pl.col(data.key).diff().fill_null(1) > 0)


def rows_after_previous(data: pa.PolarsData, columns: list[str]) -> pl.LazyFrame:
    """Row-level: the row comes after the row before it on `columns` (the first row passes; a
    null in `columns` fails): rows in that order without repeats, so unique on `columns`, in
    one pass without hashing."""
    first = pl.int_range(pl.len()) == 0
    return data.lazyframe.select(first | after_previous_row(columns, strict=True).fill_null(False))


def month_of_entry_date(data: pa.PolarsData) -> bool | pl.LazyFrame:
    """Row-level: `month` is the `YYYY-MM` of `entry_date`. Checked on the distinct (month,
    entry_date) pairs first (a month's lines have a few dozen: no date formatted per line);
    only when a pair fails, row by row, which names the failing rows."""
    matches = pl.col("month") == pl.col("entry_date").dt.strftime("%Y-%m")
    pairs = data.lazyframe.select("month", "entry_date").unique()
    if pairs.select(matches.fill_null(False).all()).collect().item():
        return True
    return data.lazyframe.select(matches)
