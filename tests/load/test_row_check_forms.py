"""Row checks written without the costlier form they replace give the same answers: the
decimal-places rule (digits after the point counted, trailing zeros left out) against the
regular expression `\\.[0-9]{N}[0-9]*[1-9]` on every plain decimal, and the entry number format
checked in either case against upper-casing first, on ASCII text."""

from __future__ import annotations

import string

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.stg_customs_lines import (
    _ENTRY_NUMBER_ANY_CASE_RE,
    DECIMAL_RE,
    ENTRY_NUMBER_RE,
    _more_decimals_than,
)

DECIMALS = st.from_regex(DECIMAL_RE, fullmatch=True) | st.sampled_from(
    ["0.10", "1.000000000001", "12.3400", "-0.001", ".05", "1.", "100", "0.105", "5.12000000000"]
)
ENTRY_TEXT = st.from_regex(_ENTRY_NUMBER_ANY_CASE_RE, fullmatch=True) | st.text(
    alphabet=string.ascii_letters + string.digits + "- ", min_size=0, max_size=16
)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(DECIMALS, min_size=1, max_size=30), places=st.sampled_from([0, 2, 10]))
def test_decimal_places_counted_as_the_regex_finds_them(values, places):
    frame = pl.DataFrame({"v": values}, schema={"v": pl.Utf8})
    regex = pl.col("v").str.contains(rf"\.[0-9]{{{places}}}[0-9]*[1-9]")
    got = frame.select(new=_more_decimals_than(pl.col("v"), places), old=regex)
    assert got.get_column("new").to_list() == got.get_column("old").to_list(), values


@settings(max_examples=300, deadline=None)
@given(values=st.lists(ENTRY_TEXT, min_size=1, max_size=30))
def test_entry_number_format_in_either_case_as_upper_cased(values):
    frame = pl.DataFrame({"e": values}, schema={"e": pl.Utf8})
    got = frame.select(
        new=pl.col("e").str.contains(_ENTRY_NUMBER_ANY_CASE_RE),
        old=pl.col("e").str.to_uppercase().str.contains(ENTRY_NUMBER_RE),
    )
    assert got.get_column("new").to_list() == got.get_column("old").to_list(), values


def test_a_letter_that_upper_cases_to_ascii_is_not_one():
    # "ß" upper-cases to "SS": the old form let "ßA-1234567-8" pass as "SSA-1234567-8"
    assert not pl.select(pl.lit("ßA-1234567-8").str.contains(_ENTRY_NUMBER_ANY_CASE_RE)).item()
