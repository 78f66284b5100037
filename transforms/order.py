"""Row order checks: whether a frame's rows are already in a given order, in one vectorised
pass comparing each row with the one before it (much cheaper than sorting, which the callers
then skip)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def after_previous_row(columns: Sequence[str], *, strict: bool) -> pl.Expr:
    """Per row: it comes after the row before it on `columns` (compared in order, text
    byte-wise, as Polars and DuckDB sort it); `strict=False` also lets a row equal the one
    before. Null on the first row; a comparison with a null is null or false."""
    after, tied = pl.lit(False), pl.lit(True)
    for column in columns:
        value, previous = pl.col(column), pl.col(column).shift(1)
        after = after | (tied & (value > previous))
        tied = tied & (value == previous)
    return after if strict else after | tied


def rows_in_order(columns: Sequence[str], *, strict: bool) -> pl.Expr:
    """True when every row comes after the row before it on `columns` (`after_previous_row`).
    A comparison with a null is false. True for a frame of 0 or 1 rows."""
    return after_previous_row(columns, strict=strict).slice(1).fill_null(False).all()


def is_in_order(frame: pl.DataFrame, columns: Sequence[str], *, strict: bool) -> bool:
    """`rows_in_order` evaluated on `frame`."""
    return bool(frame.select(rows_in_order(columns, strict=strict)).item())


def sorted_by(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """`frame` sorted by `columns`; as it is (no copy) when it already is."""
    return frame if is_in_order(frame, columns, strict=False) else frame.sort(columns)
