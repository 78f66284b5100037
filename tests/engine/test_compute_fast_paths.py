"""The compute stage's fast paths give what the general paths give: compute_line_duty (per-key
terms placed beside the lines through the key hash, active layers only, per-key flags) equals
round_components(compute_exact_components(...)) with the metal derivative flag, also when two
keys share a hash; the grain check and the line order skip their full pass only when the rows
are already strictly in grain order; fee flags join like concat_str."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandera.polars as pa
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import transforms.duty as duty
from schemas.common import grain_is_unique
from tests.engine.test_duty_properties import SCHEDULE, frame, line
from transforms.fct_duty_lines import sorted_by_line, with_fee_flags

MONEY = pl.Decimal(18, 2)
# metal derivatives (8711.30 from 2025-08-18), 232 parts, cars; origins with and without deals
EXTRA_HTS = ["8711300000", "8708305090", "8703230190", "8704310120"]
with_metal = st.tuples(
    st.sampled_from(EXTRA_HTS),
    st.sampled_from(["JP", "DE", "CN"]),
    st.dates(dt.date(2025, 1, 1), dt.date(2026, 12, 31)),
    st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False),
    st.booleans(),
)


def lines_with(rows, extra) -> pl.DataFrame:
    base = frame(rows)
    more = pl.DataFrame(
        {
            "line_number": list(range(base.height + 1, base.height + len(extra) + 1)),
            "hts_code": [e[0] for e in extra],
            "country_of_origin": [e[1] for e in extra],
            "entry_date": [e[2] for e in extra],
            "customs_value_usd": [e[3] for e in extra],
            "quantity": [Decimal(1)] * len(extra),
        },
        schema=base.schema,
    )
    steel = [None] * base.height + [Decimal("10.00") if e[4] else None for e in extra]
    return pl.concat([base, more]).with_columns(steel_content_value_usd=pl.Series(steel, dtype=MONEY))


def general_path(lines: pl.DataFrame) -> pl.DataFrame:
    """The engine's general steps, one after the other (compute_line_duty before its fast path)."""
    exact = duty.compute_exact_components(lines, SCHEDULE)
    return duty.round_components(exact, SCHEDULE).select(duty.LINE_DUTY_COLUMNS)


@settings(max_examples=40, deadline=None)
@given(st.lists(line, min_size=1, max_size=30), st.lists(with_metal, min_size=0, max_size=10))
def test_compute_line_duty_equals_the_general_path(rows, extra):
    data = lines_with(rows, extra)
    fast = duty.compute_line_duty(data, SCHEDULE).select(duty.LINE_DUTY_COLUMNS)
    assert fast.schema == general_path(data).schema
    assert fast.equals(general_path(data))


@settings(max_examples=15, deadline=None)
@given(st.lists(line, min_size=1, max_size=30), st.lists(with_metal, min_size=0, max_size=10))
def test_keys_sharing_a_hash_fall_back_to_the_key_join(rows, extra):
    data = lines_with(rows, extra)
    expected = duty.compute_line_duty(data, SCHEDULE)
    with pytest.MonkeyPatch.context() as patch:
        # every key hashes alike: one key stands for all of them until the check sees it
        patch.setattr(duty, "_key_hash", lambda key: pl.repeat(7, pl.len(), dtype=pl.UInt64).alias(duty._KEY_HASH))
        collided = duty.compute_line_duty(data, SCHEDULE)
    assert collided.equals(expected)


def test_no_lines():
    data = lines_with([("87032301", "90", "JP", dt.date(2025, 10, 1), Decimal("1000.00"), Decimal(1))], []).head(0)
    fast = duty.compute_line_duty(data, SCHEDULE)
    assert fast.height == 0
    assert fast.select(duty.LINE_DUTY_COLUMNS).schema == general_path(data).schema


def test_null_key_parts_get_mfn_but_no_measure():
    data = frame([("87032301", "90", "JP", dt.date(2025, 10, 1), Decimal("1000.00"), Decimal(1))]).with_columns(
        country_of_origin=pl.lit(None, pl.Utf8)
    )
    fast = duty.compute_line_duty(data, SCHEDULE).select(duty.LINE_DUTY_COLUMNS)
    assert fast.equals(general_path(data))
    assert fast.item(0, "mfn_duty_usd") == Decimal("25.00")  # 2.5% of 1000, no 232 without an origin
    assert fast.item(0, "total_duty_usd") == Decimal("25.00")


def grain_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(checks=[grain_is_unique(["entry_number", "line_number"])])


@pytest.mark.parametrize(
    ("entries", "numbers", "valid"),
    [
        (["A", "A", "B"], [1, 2, 1], True),  # strictly increasing
        (["B", "A", "A"], [1, 2, 1], True),  # out of order, unique
        (["A", "A", "B"], [1, 1, 2], False),  # in order, a duplicate
        (["B", "A", "B"], [1, 1, 1], False),  # out of order, a duplicate
        ([None, None], [1, 1], False),  # nulls are one value
        (["A"], [1], True),
    ],
)
def test_grain_is_unique(entries, numbers, valid):
    data = pl.DataFrame({"entry_number": entries, "line_number": numbers}, schema={"entry_number": pl.Utf8, "line_number": pl.Int64})
    if valid:
        grain_schema().validate(data, lazy=True)
    else:
        with pytest.raises(pa.errors.SchemaErrors, match="grain_is_unique"):
            grain_schema().validate(data, lazy=True)


def test_sorted_by_line_sorts_only_what_is_out_of_order():
    ordered = pl.DataFrame({"entry_number": ["A10", "A9", "A9"], "line_number": [5, 1, 2], "x": [1, 2, 3]})
    assert sorted_by_line(ordered) is ordered  # "A10" < "A9" byte-wise
    shuffled = ordered[[2, 0, 1]]
    assert sorted_by_line(shuffled).equals(ordered)
    with_null = pl.DataFrame({"entry_number": ["A", None], "line_number": [1, 1]})
    assert sorted_by_line(with_null).equals(with_null.sort("entry_number", "line_number"))


def test_fee_flags_join_like_concat_str():
    flags = ["", "a", "", "a", None, "a"]
    fee_flags = ["", "", "f", "f", "f", None]
    data = pl.DataFrame({"flags": flags, "fee_flags": fee_flags})
    expected = data.select(
        flags=pl.concat_str(
            [pl.when(pl.col("flags") != "").then(pl.col("flags")), pl.when(pl.col("fee_flags") != "").then(pl.col("fee_flags"))],
            separator=", ",
            ignore_nulls=True,
        ).fill_null("")
    )
    assert with_fee_flags(data).select("flags").equals(expected)
    assert expected.get_column("flags").to_list() == ["", "a", "f", "a, f", "f", "a"]


# line facts of issue 16: export dates around the in-transit cut-offs, modes, claims
facts = st.tuples(
    st.one_of(st.none(), st.dates(dt.date(2025, 3, 1), dt.date(2026, 3, 1))),
    st.sampled_from(["vessel", "air"]),
    st.sampled_from([None, "9903.94.06", "9903.94.07", "9903.94.55", "9903.03.05", "9903.74.07;9903.74.05", "9903.01.25"]),
)


@settings(max_examples=15, deadline=None)
@given(st.lists(with_metal, min_size=1, max_size=20), st.lists(facts, min_size=21, max_size=21))
def test_compute_line_duty_with_line_facts_equals_the_general_path(extra, line_facts):
    data = lines_with([("87032301", "90", "JP", dt.date(2025, 10, 1), Decimal("1000.00"), Decimal(1))], extra)
    data = data.with_columns(
        export_date=pl.Series([f[0] for f in line_facts[: data.height]], dtype=pl.Date),
        transport_mode=pl.Series([f[1] for f in line_facts[: data.height]], dtype=pl.Utf8),
        declared_headings=pl.Series([f[2] for f in line_facts[: data.height]], dtype=pl.Utf8),
    )
    fast = duty.compute_line_duty(data, SCHEDULE).select(duty.LINE_DUTY_COLUMNS)
    assert fast.equals(general_path(data))
    # a line alone is priced as among the others
    alone = pl.concat([duty.compute_line_duty(data[i : i + 1], SCHEDULE) for i in range(min(4, data.height))])
    assert alone.select(duty.LINE_DUTY_COLUMNS).equals(fast.head(alone.height))


def test_lines_on_every_day_are_priced_as_on_their_own_day():
    """compute_line_duty resolves the schedule per stretch of days between the schedule's dates
    (not per day): on every day from before the first date to after the last, for cars, parts,
    metal derivatives and lines declaring export dates and claims, it equals the general path,
    which resolves every day on its own."""
    days = pl.date_range(dt.date(2024, 12, 1), dt.date(2027, 1, 31), eager=True).to_list()
    codes = [("8703230190", "JP"), ("8708305090", "JP"), ("8711300000", "JP"), ("8704310120", "MX"), ("4011101010", "CN")]
    rows = [(hts[:8], hts[8:], origin, day, Decimal("12345.67"), Decimal(3)) for day in days for hts, origin in codes]
    data = frame(rows)
    n = data.height
    data = data.with_columns(
        steel_content_value_usd=pl.Series([Decimal("100.00") if i % 3 == 0 else None for i in range(n)], dtype=MONEY),
        # export dates a few days to a few months before entry, around the in-transit cut-offs
        export_date=pl.Series([row[3] - dt.timedelta(days=(i * 7) % 120) if i % 4 else None for i, row in enumerate(rows)],
                              dtype=pl.Date),
        transport_mode=pl.Series(["vessel" if i % 5 else "air" for i in range(n)], dtype=pl.Utf8),
        declared_headings=pl.Series([None if i % 6 else "9903.94.06" for i in range(n)], dtype=pl.Utf8),
    )
    fast = duty.compute_line_duty(data, SCHEDULE).select(duty.LINE_DUTY_COLUMNS)
    assert fast.equals(general_path(data))


@settings(max_examples=10, deadline=None)
@given(st.lists(line, min_size=1, max_size=30), st.lists(with_metal, min_size=0, max_size=10))
def test_lines_priced_a_chunk_at_a_time_equal_the_general_path(rows, extra):
    """Chunks of 7 lines (PRICING_CHUNK_ROWS) give what one chunk gives, in one contiguous
    chunk per column; also when keys share a hash (the key check runs a chunk at a time)."""
    data = lines_with(rows, extra)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(duty, "PRICING_CHUNK_ROWS", 7)
        chunked = duty.compute_line_duty(data, SCHEDULE)
        patch.setattr(duty, "_key_hash", lambda key: pl.repeat(7, pl.len(), dtype=pl.UInt64).alias(duty._KEY_HASH))
        collided = duty.compute_line_duty(data, SCHEDULE)
    assert chunked.select(duty.LINE_DUTY_COLUMNS).equals(general_path(data))
    assert collided.equals(chunked)
    assert max(chunked.select(duty.LINE_DUTY_COLUMNS).n_chunks("all")) == 1
