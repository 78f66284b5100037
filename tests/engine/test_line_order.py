"""compute_line_duty keeps the input rows in their order and the input columns untouched
(entry_fees and fct_duty_lines place its results beside the input, without re-sorting)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.test_duty_properties import SCHEDULE, frame, line
from transforms.duty import LINE_DUTY_COLUMNS, compute_line_duty


@settings(max_examples=25, deadline=None)
@given(st.lists(line, min_size=1, max_size=40), st.randoms(use_true_random=False))
def test_output_rows_are_the_input_rows_in_input_order(rows, rnd):
    data = frame(rows).with_columns(note=pl.format("line {}", pl.col("line_number")))
    order = list(range(data.height))
    rnd.shuffle(order)
    shuffled = data[order]
    priced = compute_line_duty(shuffled, SCHEDULE)
    assert priced.columns == [*shuffled.columns, *LINE_DUTY_COLUMNS]
    assert priced.select(shuffled.columns).equals(shuffled)
    # each line's duty is the one it gets when priced alone (no row picked up another's result)
    alone = pl.concat([compute_line_duty(shuffled[i : i + 1], SCHEDULE) for i in range(min(5, shuffled.height))])
    assert priced.head(alone.height).equals(alone)
