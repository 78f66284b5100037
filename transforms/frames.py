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
