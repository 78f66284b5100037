"""Hand-computed MPF / HMF cases (bounds from tariff-rules.md, copied in fee_schedule.py) and
the allocation invariants as hypothesis properties."""

from dataclasses import replace
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.present.findings import run_warnings
from tests.fees.fee_schedule import FEES, empty_schedule, fee_lines
from transforms.fees import FeeError, entry_fees
from transforms.vocabulary import MONEY

SCHEDULE = empty_schedule()


def fees_of(frame: pl.DataFrame) -> dict[tuple[str, int], tuple[Decimal, Decimal]]:
    out = entry_fees(frame, SCHEDULE)
    return {(r["entry_number"], r["line_number"]): (r["mpf_usd"], r["hmf_usd"]) for r in out.to_dicts()}


def test_single_line_below_the_minimum_pays_the_fy2025_minimum():
    # 5,000.00 x 0.3464% = 17.32 < FY2025 minimum 32.71 -> 32.71; air: no HMF
    assert fees_of(fee_lines(("E1", 1, "2025-06-10", "5000.00", "air"))) == {("E1", 1): (Decimal("32.71"), Decimal("0.00"))}


def test_single_line_above_the_maximum_pays_the_fy2025_maximum():
    # 250,000.00 x 0.3464% = 866.00 > FY2025 maximum 634.62 -> 634.62; air: no HMF
    assert fees_of(fee_lines(("E1", 1, "2025-06-10", "250000.00", "air"))) == {("E1", 1): (Decimal("634.62"), Decimal("0.00"))}


def test_between_the_bounds_is_the_plain_rate():
    # 50,000.00 x 0.3464% = 173.20
    assert fees_of(fee_lines(("E1", 1, "2025-06-10", "50000.00", "air")))[("E1", 1)][0] == Decimal("173.20")


@pytest.mark.parametrize(
    ("entry_date", "value", "mpf"),
    [
        # FY2024 ends 2024-09-30; FY2025 starts 2024-10-01 (12:01 a.m., entry date decides)
        ("2024-09-30", "5000.00", "31.67"),   # 17.32 -> FY2024 minimum
        ("2024-10-01", "5000.00", "32.71"),   # 17.32 -> FY2025 minimum
        ("2024-09-30", "500000.00", "614.35"),  # 1,732.00 -> FY2024 maximum
        ("2024-10-01", "500000.00", "634.62"),  # 1,732.00 -> FY2025 maximum
        # FY2025 ends 2025-09-30; FY2026 starts 2025-10-01
        ("2025-09-30", "5000.00", "32.71"),
        ("2025-10-01", "5000.00", "33.58"),
        ("2025-09-30", "500000.00", "634.62"),
        ("2025-10-01", "500000.00", "651.50"),
    ],
)
def test_fiscal_year_boundaries_pick_the_bounds_by_entry_date(entry_date, value, mpf):
    assert fees_of(fee_lines(("E1", 1, entry_date, value, "air")))[("E1", 1)][0] == Decimal(mpf)


def test_multi_line_entry_allocates_the_entry_fee_exactly_by_largest_remainder():
    # entry value 10,000.00 + 20,000.00 + 33,333.33 = 63,333.33; x 0.3464% = 219.38665512 -> 219.39
    # exact shares: 34.6405..., 69.2810..., 115.4684...; floors 34.64 + 69.28 + 115.46 = 219.38,
    # one cent left -> the largest fractional remainder (line 3, .84 of a cent) -> 115.47
    got = fees_of(fee_lines(
        ("E1", 1, "2025-06-10", "10000.00", "air"),
        ("E1", 2, "2025-06-10", "20000.00", "air"),
        ("E1", 3, "2025-06-10", "33333.33", "air"),
    ))
    assert [got[("E1", n)][0] for n in (1, 2, 3)] == [Decimal("34.64"), Decimal("69.28"), Decimal("115.47")]
    assert sum(got[("E1", n)][0] for n in (1, 2, 3)) == Decimal("219.39")


def test_equal_remainders_go_to_the_lower_line_numbers_and_the_minimum_is_per_entry():
    # three lines of 100.01: 300.03 x 0.3464% = 1.04 -> FY2026 minimum 33.58 for the ENTRY
    # (not 3 x 33.58); 33.58 / 3 = 11.1933 -> floors 3 x 11.19 = 33.57, one cent to line 1.
    # HMF: 300.03 x 0.125% = 0.3750375 -> 0.38; shares 0.1266.. -> floors 3 x 0.12, two cents to
    # lines 1 and 2. Lines given out of order to show the tie-break uses line_number.
    got = fees_of(fee_lines(
        ("E1", 3, "2025-10-01", "100.01", "vessel"),
        ("E1", 1, "2025-10-01", "100.01", "vessel"),
        ("E1", 2, "2025-10-01", "100.01", "vessel"),
    ))
    assert got == {
        ("E1", 1): (Decimal("11.20"), Decimal("0.13")),
        ("E1", 2): (Decimal("11.19"), Decimal("0.13")),
        ("E1", 3): (Decimal("11.19"), Decimal("0.12")),
    }


def test_hmf_applies_to_vessel_lines_only():
    # 40,000.00 x 0.125% = 50.00 by vessel; by air 0.00. MPF: 40,000 x 0.3464% = 138.56 each
    got = fees_of(fee_lines(
        ("VES", 1, "2025-06-10", "40000.00", "vessel"),
        ("AIR", 1, "2025-06-10", "40000.00", "air"),
    ))
    assert got == {
        ("VES", 1): (Decimal("138.56"), Decimal("50.00")),
        ("AIR", 1): (Decimal("138.56"), Decimal("0.00")),
    }


def test_mixed_mode_entry_hmf_base_is_the_vessel_lines_only():
    # HMF on the vessel line only: 12,345.67 x 0.125% = 15.4320875 -> 15.43.
    # MPF on the whole entry: (12,345.67 + 7,654.33) = 20,000.00 x 0.3464% = 69.28, split by value:
    # 69.28 x 12,345.67 / 20,000 = 42.7654... and 26.5145... -> floors 42.76 + 26.51 = 69.27,
    # the cent to the larger remainder (line 1, .54 vs .45) -> 42.77 / 26.51
    got = fees_of(fee_lines(
        ("E1", 1, "2025-06-10", "12345.67", "vessel"),
        ("E1", 2, "2025-06-10", "7654.33", "truck"),
    ))
    assert got == {("E1", 1): (Decimal("42.77"), Decimal("15.43")), ("E1", 2): (Decimal("26.51"), Decimal("0.00"))}


def test_total_cost_is_duty_plus_fees_and_columns_rows_order_are_kept():
    frame = fee_lines(
        ("E2", 1, "2025-06-10", "40000.00", "vessel"),
        ("E1", 1, "2025-06-10", "5000.00", "air"),
        total_duty="1000.00",
    ).with_columns(extra=pl.lit("kept"))
    out = entry_fees(frame, SCHEDULE)
    assert out.columns == [*frame.columns, "mpf_usd", "hmf_usd", "total_cost_usd", "fee_flags"]
    assert out.get_column("entry_number").to_list() == ["E2", "E1"]
    # E2: 1,000.00 + 138.56 + 50.00 = 1,188.56; E1: 1,000.00 + 32.71 + 0 = 1,032.71
    assert out.get_column("total_cost_usd").to_list() == [Decimal("1188.56"), Decimal("1032.71")]
    assert all(out.schema[c] == MONEY for c in ("mpf_usd", "hmf_usd", "total_cost_usd"))
    assert out.get_column("fee_flags").to_list() == ["", ""]


def test_fy2027_carries_fy2026_bounds_forward_with_a_flag_and_a_warning():
    # 2026-11-02 is FY2027 (UNCONFIRMED): FY2026 bounds carried forward;
    # E1: 4,000.00 x 0.3464% = 13.86 -> minimum 33.58, 16.79 per line; E2 (FY2026): 17.32 -> 33.58
    out = entry_fees(fee_lines(
        ("E1", 1, "2026-11-02", "2000.00", "air"),
        ("E1", 2, "2026-11-02", "2000.00", "air"),
        ("E2", 1, "2026-09-30", "5000.00", "air"),
    ), SCHEDULE).sort("entry_number", "line_number")
    assert out.get_column("mpf_usd").to_list() == [Decimal("33.58") / 2, Decimal("33.58") / 2, Decimal("33.58")]
    assert out.get_column("fee_flags").to_list() == ["unconfirmed:mpf_fy2027", "unconfirmed:mpf_fy2027", ""]
    # the run summary warns about it with the fee row's note (fct_duty_lines merges fee_flags into flags)
    warnings = run_warnings(out.rename({"fee_flags": "flags"}), SCHEDULE)
    assert warnings == [
        "UNCONFIRMED fee mpf_fy2027 (from 2026-10-01, rate 0.003464): FY2027 bounds not yet published; "
        "FY2026 carried forward; used by 2 lines in 1 entry"
    ]


def test_zero_value_entry_pays_the_minimum_shared_equally():
    # 0 x rate = 0 -> FY2025 minimum 32.71 on the entry; no value to weigh by -> equal shares
    # 16.355 -> floors 16.35 + 16.35, one cent to line 1
    got = fees_of(fee_lines(("E1", 1, "2025-06-10", "0.00", "air"), ("E1", 2, "2025-06-10", "0.00", "air")))
    assert [got[("E1", 1)][0], got[("E1", 2)][0]] == [Decimal("16.36"), Decimal("16.35")]


def test_entry_with_two_entry_dates_is_an_error_naming_the_entry():
    with pytest.raises(FeeError, match=r"entry_date.*E1: 2025-06-10, 2025-06-11"):
        entry_fees(fee_lines(("E1", 1, "2025-06-10", "1.00", "air"), ("E1", 2, "2025-06-11", "1.00", "air")), SCHEDULE)


def test_entry_date_outside_every_fee_row_is_a_schedule_error():
    with pytest.raises(FeeError, match=r"fee_id 'mpf'.*2020-01-02 \(0 rows\)"):
        entry_fees(fee_lines(("E1", 1, "2020-01-02", "1.00", "air")), SCHEDULE)


def test_overlapping_fee_rows_are_a_schedule_error():
    overlapping = replace(
        SCHEDULE, source="overlap", fees=pl.concat([FEES, FEES.filter(pl.col("fee_id") == "hmf")])
    )
    with pytest.raises(FeeError, match=r"schedule overlap: fees: fee_id 'hmf'.*\(2 rows\)"):
        entry_fees(fee_lines(("E1", 1, "2025-06-10", "1.00", "vessel")), overlapping)


# --- properties -------------------------------------------------------------------------

ENTRY_DATES = ["2024-09-30", "2024-10-01", "2025-06-10", "2025-09-30", "2025-10-01", "2026-11-02"]
values = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("400000.00"), places=2)
entries = st.lists(
    st.tuples(st.sampled_from(ENTRY_DATES), st.lists(st.tuples(values, st.sampled_from(["vessel", "air"])), min_size=1, max_size=12)),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(entries)
def test_allocation_sums_to_the_entry_fee_within_bounds_and_within_a_cent_of_each_share(generated):
    rows = [
        (f"E{e}", n, day, str(value), mode)
        for e, (day, lines) in enumerate(generated)
        for n, (value, mode) in enumerate(lines, start=1)
    ]
    out = entry_fees(fee_lines(*rows), SCHEDULE)
    bounds = {
        "2024-09-30": ("31.67", "614.35"), "2024-10-01": ("32.71", "634.62"), "2025-06-10": ("32.71", "634.62"),
        "2025-09-30": ("32.71", "634.62"), "2025-10-01": ("33.58", "651.50"), "2026-11-02": ("33.58", "651.50"),
    }
    for (entry,), group in out.group_by(["entry_number"]):
        day = str(group.get_column("entry_date")[0])
        lo, hi = (Decimal(b) for b in bounds[day])
        values_ = group.get_column("customs_value_usd").to_list()
        total_value = sum(values_)
        # the entry fee computed independently with Python decimals
        fee = min(max(total_value * Decimal("0.003464"), lo), hi).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        mpf = group.get_column("mpf_usd").to_list()
        assert sum(mpf) == fee, entry
        assert lo <= fee <= hi
        for value, allocated in zip(values_, mpf, strict=False):
            exact = fee * value / total_value if total_value else fee / len(values_)
            assert abs(allocated - exact) < Decimal("0.01"), (entry, value, allocated, exact)
        vessel = [(v, h) for v, h, m in zip(values_, group.get_column("hmf_usd"), group.get_column("transport_mode"), strict=False) if m == "vessel"]
        hmf_fee = (sum(v for v, _ in vessel) * Decimal("0.00125")).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        assert sum(h for _, h in vessel) == (hmf_fee if vessel else 0)
        assert all(h == 0 for h, m in zip(group.get_column("hmf_usd"), group.get_column("transport_mode"), strict=False) if m != "vessel")
