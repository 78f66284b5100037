"""Frame plumbing the transforms share."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl


def stacked(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The frames of `parts` (same columns) one under the other, each column in one chunk.
    Built a column at a time, each column dropped from the parts (the list is emptied) as soon
    as it is whole: a rechunk of the whole frame would hold every column twice. A column
    already in one chunk is not copied."""
    columns = []
    for name in parts[0].columns:
        columns.append(pl.concat([part.get_column(name) for part in parts]).rechunk())
        parts[:] = [part.drop(name) for part in parts]
    parts.clear()
    return pl.DataFrame(columns)


def per_distinct_value(frame: pl.DataFrame, column: str, derive: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """`derive(pl.col(column))` over `frame`, worked out once per distinct value of the column
    and looked up per row, where the column has few distinct values (at most one row in
    eight): text operations such as splitting a list of headings cost far more per row than
    the lookup (5M lines with 4 distinct declared heading lists: 0.5 → 0.2 s); one derived
    value for every row gives a literal (`looked_up`). `derive` must map a value alone (no
    look at other rows)."""
    (derived,) = per_distinct_values(frame, column, {column: derive})
    return derived


def per_distinct_values(
    frame: pl.DataFrame, column: str, derives: dict[str, Callable[[pl.Expr], pl.Expr]]
) -> list[pl.Expr]:
    """`per_distinct_value` for several derivations of one column, each named by its key,
    the distinct values found once for all."""
    distinct = frame.select(pl.col(column).unique()).to_series()
    if distinct.len() * 8 > frame.height:
        return [derive(pl.col(column)).alias(name) for name, derive in derives.items()]
    derived = distinct.to_frame().select(derive(pl.col(column)).alias(name) for name, derive in derives.items())
    return [looked_up(column, distinct, derived.get_column(name)).alias(name) for name in derives]


def looked_up(column: str, keys: pl.Series, values: pl.Series) -> pl.Expr:
    """Each row's entry of `values` at the position of its `column` value in `keys` (every
    value of the column is one of `keys`); where every key has the same value (or there is
    no key), that value as a literal, held once and never spelled out per row (for
    `with_columns`, where it fills every row)."""
    if values.n_unique() <= 1:
        return pl.lit(values[0] if values.len() else None, dtype=values.dtype)
    return pl.col(column).replace_strict(keys, values, return_dtype=values.dtype)


# the types whose "one value on every row" is decided by min == max (no NaN, a total order)
_FIRST_ROWS = 4096  # rows compared first: a column that varies there is not compared whole
_ORDERED = (pl.String, pl.Decimal, pl.Date, pl.Datetime, pl.Boolean, pl.Int8, pl.Int16, pl.Int32, pl.Int64,
            pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


def constants_as_literals(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with each column that holds the same value on every row (or null on every row)
    replaced by that value as a literal: Polars keeps such a column as one value and its
    length, through filters, joins, sorts and concatenations, instead of one value per row (a
    one-month load's `month`, a file's optional column left empty, a measure no line pays:
    5M lines hold 76 MB per column of text or money). The values are the same; a frame
    without rows, or without such columns, is returned as is. Only columns without nulls
    whose first rows hold one value are compared whole (5M lines: about 0.05 s)."""
    if frame.height == 0:
        return frame
    ordered = [name for name, dtype in frame.schema.items() if isinstance(dtype, _ORDERED)]
    counts = frame.select(pl.col(ordered).null_count()).row(0, named=True) if ordered else {}
    literals = {name: None for name, nulls in counts.items() if nulls == frame.height}
    full = [name for name, nulls in counts.items() if nulls == 0]
    for rows in (frame.head(_FIRST_ROWS), frame) if frame.height > _FIRST_ROWS else (frame,):
        if not full:
            break
        bounds = rows.select(*(pl.col(c).min().alias(f"{c}<") for c in full),
                             *(pl.col(c).max().alias(f"{c}>") for c in full)).row(0, named=True)
        full = [c for c in full if bounds[f"{c}<"] == bounds[f"{c}>"]]
    literals |= {name: bounds[f"{name}<"] for name in full}
    if not literals:
        return frame
    return frame.with_columns(pl.lit(value, dtype=frame.schema[name]).alias(name) for name, value in literals.items())
