"""transforms/order.py: the one-pass row order test behind sorted_by, grain_is_unique and the
publish's streamed exports."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.order import is_in_order, sorted_by

GRAIN = ["entry_number", "line_number"]


def _lines(entries, lines):
    return pl.DataFrame({"entry_number": entries, "line_number": lines},
                        schema={"entry_number": pl.Utf8, "line_number": pl.Int64})


@pytest.mark.parametrize(
    ("entries", "lines", "strict", "non_strict"),
    [
        ([], [], True, True),
        (["A1"], [1], True, True),
        (["A1", "A1", "A2"], [1, 2, 1], True, True),
        (["A1", "A1"], [1, 1], False, True),      # equal rows: in order, not strictly
        (["A1", "A1"], [2, 1], False, False),
        (["A2", "A1"], [1, 1], False, False),
        (["A10", "A9"], [1, 1], True, True),     # text compares byte-wise
        (["A1", None], [1, 1], False, False),    # a null compared is out of order
    ],
)
def test_rows_in_order(entries, lines, strict, non_strict):
    frame = _lines(entries, lines)
    assert is_in_order(frame, GRAIN, strict=True) is strict
    assert is_in_order(frame, GRAIN, strict=False) is non_strict


def test_sorted_by_returns_ordered_frames_as_they_are_and_sorts_the_others():
    ordered = _lines(["A1", "A1", "B2"], [1, 2, 1])
    assert sorted_by(ordered, GRAIN) is ordered
    shuffled = _lines(["B2", "A1", "A1"], [1, 2, 1])
    assert sorted_by(shuffled, GRAIN).equals(ordered)
