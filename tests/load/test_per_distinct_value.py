"""`transforms/frames.py: per_distinct_value` gives, row for row, what the expression gives over
the whole column: with few distinct values (looked up), many (worked out directly), one value on
every row (a literal), nulls; for the two uses it has (the staged declared headings and the
engine's claims)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.frames import per_distinct_value
from transforms.stg_customs_lines import _bad_headings, _joined_headings

CELLS = st.sampled_from(
    [None, "", "9903.94.05", " 9903.94.05 ; 9903.01.25;", "9903.94.05;9903.94.05", "abc; 9903.01.33", ";;", "x"]
)


def _claims(value: pl.Expr) -> pl.Expr:
    claims = value.str.split(";").list.eval(pl.element().filter(pl.element().is_in(["9903.94.05"]))).list.join(";")
    return pl.when(claims != "").then(claims)


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(CELLS, min_size=1, max_size=80), repeat=st.integers(1, 12))
def test_looked_up_as_worked_out(cells, repeat):
    frame = pl.DataFrame({"text": cells * repeat}, schema={"text": pl.Utf8})
    for derive in (_joined_headings, _bad_headings, _claims):
        # (as the uses place it: beside the frame's columns, where a literal fills every row)
        expected = frame.with_columns(derive(pl.col("text")).alias("out"))
        got = frame.with_columns(per_distinct_value(frame, "text", derive).alias("out"))
        assert got.equals(expected), (derive.__name__, cells, repeat)


def test_few_distinct_values_are_looked_up_and_one_value_is_a_literal():
    frame = pl.DataFrame({"text": ["9903.94.05 ;abc", None] * 50})
    looked_up = per_distinct_value(frame, "text", _bad_headings)
    assert "replace_strict" in str(looked_up)
    one = pl.DataFrame({"text": ["abc;9903.94.05"] * 50})
    literal = per_distinct_value(one, "text", _bad_headings)
    assert one.with_columns(literal.alias("out")).get_column("out").to_list() == ["abc"] * 50
    assert "col(" not in str(literal)
    # every value distinct: worked out per row
    many = pl.DataFrame({"text": [f"x{i}" for i in range(50)]})
    assert "replace_strict" not in str(per_distinct_value(many, "text", _bad_headings))
