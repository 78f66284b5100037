"""transforms/frames.py `constants_as_literals`: a column holding one value (or only nulls) on
every row is held as that value once; the frame's values and types never change. A column
that holds one value in its first rows only (the rows compared first) must keep its values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.frames import constants_as_literals

MONEY = pl.Decimal(18, 2)


def _size(frame: pl.DataFrame, column: str) -> int:
    # (Polars counts a literal column's one value in the frame's estimated size, not n of
    # them; reading its values, e.g. `equals`, makes it hold them all: ask before. A column
    # of nulls counts nothing either way.)
    return frame.estimated_size() - frame.drop(column).estimated_size()


def _held_once(got: pl.DataFrame, given: pl.DataFrame, column: str) -> bool:
    return _size(got, column) < _size(given, column)


def test_one_value_or_only_nulls_is_held_once_and_reads_the_same():
    n = 10_000
    frame = pl.DataFrame(
        {
            "month": ["2025-10"] * n,
            "line_number": list(range(n)),
            "empty": pl.Series([None] * n, dtype=pl.Utf8),
            "zero": pl.Series([Decimal("0.00")] * n, dtype=MONEY),
            "day": [dt.date(2025, 10, 1)] * n,
            "one_null": pl.Series(["x"] * (n - 1) + [None], dtype=pl.Utf8),
            "list": [[1]] * n,  # not ordered: never replaced
        }
    )
    got = constants_as_literals(frame)
    assert [c for c in frame.columns if _held_once(got, frame, c)] == ["month", "zero", "day"]
    assert got.equals(frame) and got.schema == frame.schema


def test_a_column_that_varies_only_after_the_first_rows_keeps_its_values():
    # the first rows are compared first: a column that holds one value there is compared whole
    n = 20_000
    frame = pl.DataFrame(
        {
            "late": ["A"] * (n - 1) + ["B"],
            "later_money": pl.Series([Decimal("1.00")] * 5_000 + [Decimal("2.00")] * (n - 5_000), dtype=MONEY),
            "same": ["A"] * n,
        }
    )
    got = constants_as_literals(frame)
    assert [c for c in frame.columns if _held_once(got, frame, c)] == ["same"]
    assert got.equals(frame)


def test_a_frame_without_rows_is_returned_as_is():
    frame = pl.DataFrame({"month": pl.Series([], dtype=pl.Utf8)})
    assert constants_as_literals(frame) is frame


VALUES = {
    "text": (st.sampled_from(["a", "b", "long text beyond twelve bytes", ""]), pl.Utf8),
    "money": (st.sampled_from([Decimal("0.00"), Decimal("-1.25"), Decimal("7.10")]), MONEY),
    "date": (st.sampled_from([dt.date(2025, 1, 1), dt.date(2026, 2, 28)]), pl.Date),
    "flag": (st.booleans(), pl.Boolean),
    "count": (st.integers(-3, 3), pl.Int64),
}


@st.composite
def frames(draw) -> pl.DataFrame:
    # (rows repeated so that every column is large enough for its size to tell, and some
    # frames go past the rows compared first)
    height, repeat = draw(st.integers(1, 40)), draw(st.sampled_from([30, 150]))
    columns = {}
    for name, (values, dtype) in VALUES.items():
        value = draw(values)
        shape = draw(st.sampled_from(["constant", "nulls", "mixed", "one_off", "constant_or_null"]))
        if shape == "constant":
            column = [value] * height
        elif shape == "nulls":
            column = [None] * height
        elif shape == "constant_or_null":
            column = [draw(st.sampled_from([value, None])) for _ in range(height)]
        else:
            column = [value] * height if shape == "one_off" else [draw(values) for _ in range(height)]
        column = column * repeat
        if shape == "one_off":  # one value everywhere but one row, anywhere
            column[draw(st.integers(0, len(column) - 1))] = draw(values)
        columns[name] = pl.Series(name, column, dtype=dtype)
    return pl.DataFrame(list(columns.values()))


@settings(max_examples=100, deadline=None)
@given(frame=frames())
def test_values_and_types_never_change(frame):
    got = constants_as_literals(frame)
    for column in frame.columns:
        series = frame.get_column(column)
        if _size(frame, column) > 0:  # (nulls or empty texts only: no size to tell)
            one_value = series.null_count() == frame.height or (series.null_count() == 0 and series.n_unique() == 1)
            assert _held_once(got, frame, column) == one_value, column
    assert got.schema == frame.schema
    assert got.equals(frame)
