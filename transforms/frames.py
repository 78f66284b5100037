"""Frame plumbing the transforms share."""

from __future__ import annotations

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


# the types whose "one value on every row" is decided by min == max (no NaN, a total order)
_ORDERED = (pl.String, pl.Decimal, pl.Date, pl.Datetime, pl.Boolean, pl.Int8, pl.Int16, pl.Int32, pl.Int64,
            pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


def constants_as_literals(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with each column that holds the same value on every row (or null on every row)
    replaced by that value as a literal: Polars keeps such a column as one value and its
    length, through filters, joins, sorts and concatenations, instead of one value per row (a
    one-month load's `month`, a file's optional column left empty, a measure no line pays:
    5M lines hold 76 MB per column of text or money). The values are the same; a frame
    without rows, or without such columns, is returned as is."""
    if frame.height == 0:
        return frame
    candidates = [name for name, dtype in frame.schema.items() if isinstance(dtype, _ORDERED)]
    if not candidates:
        return frame
    facts = frame.select(
        *(pl.col(c).null_count().alias(f"{i}n") for i, c in enumerate(candidates)),
        *(pl.col(c).min().alias(f"{i}lo") for i, c in enumerate(candidates)),
        *(pl.col(c).max().alias(f"{i}hi") for i, c in enumerate(candidates)),
    ).row(0)
    count = len(candidates)
    literals = []
    for i, name in enumerate(candidates):
        nulls, low, high = facts[i], facts[count + i], facts[2 * count + i]
        if nulls == frame.height or (nulls == 0 and low == high):
            literals.append(pl.lit(None if nulls else low, dtype=frame.schema[name]).alias(name))
    return frame.with_columns(literals) if literals else frame
