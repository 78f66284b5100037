"""fct_vehicle_duty: HTS classification from vehicle attributes, allocation of a line's duty
and fees to its vehicles, and the warnings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.inputs.vehicles import read_classification, read_vehicle_references
from schemas.fct_vehicle_duty import LINE_SUMS_SCHEMA, SCHEMA, line_sums
from transforms.fct_vehicle_duty import (
    allocate_cents,
    build_fct_vehicle_duty,
    classification_overlaps,
    classify_vehicles,
)

MONEY = pl.Decimal(18, 2)

# --------------------------------------------------------------------------- classification

# (vehicle_class, propulsion, engine_cc, gvw_kg) → HTS6, one case per subheading of 8703.21-.90
# and 8704.21-.90, on both sides of every engine-size and weight boundary.
CASES = [
    ("passenger", "petrol", 999, 1200, "870321"),
    ("passenger", "petrol", 1000, 1200, "870321"),  # "not exceeding 1,000 cc"
    ("passenger", "petrol", 1001, 1300, "870322"),
    ("passenger", "petrol", 1500, 1500, "870322"),  # "exceeding 1,000 but not exceeding 1,500"
    ("passenger", "petrol", 1501, 1600, "870323"),
    ("passenger", "petrol", 2487, 2100, "870323"),
    ("passenger", "petrol", 3000, 2400, "870323"),
    ("passenger", "petrol", 3001, 2600, "870324"),
    ("passenger", "petrol", 3445, 3200, "870324"),
    ("passenger", "diesel", 1499, 1500, "870331"),
    ("passenger", "diesel", 1500, 1500, "870331"),
    ("passenger", "diesel", 1501, 1800, "870332"),
    ("passenger", "diesel", 2500, 2000, "870332"),
    ("passenger", "diesel", 2501, 2300, "870333"),
    ("passenger", "diesel", 4461, 3200, "870333"),
    ("passenger", "hybrid", 2487, 2100, "870340"),
    ("passenger", "diesel_hybrid", 3283, 2500, "870350"),
    ("passenger", "plug_in_hybrid", 1987, 1600, "870360"),
    ("passenger", "diesel_plug_in_hybrid", 2143, 2400, "870370"),
    ("passenger", "electric", None, 2450, "870380"),
    ("passenger", "fuel_cell", None, 2430, "870380"),  # CBP NY N299331 (Hyundai Nexo)
    ("passenger", "other", None, 900, "870390"),
    ("goods", "diesel", 2755, 3000, "870421"),
    ("goods", "diesel", 2999, 5000, "870421"),  # "g.v.w. not exceeding 5 metric tons"
    ("goods", "diesel", 5193, 5001, "870422"),
    ("goods", "diesel", 7684, 20000, "870422"),
    ("goods", "diesel", 12913, 20001, "870423"),
    ("goods", "petrol", 2393, 2700, "870431"),
    ("goods", "petrol", 2393, 5000, "870431"),
    ("goods", "petrol", 6800, 5001, "870432"),
    ("goods", "diesel_hybrid", 2982, 4500, "870441"),
    ("goods", "diesel_hybrid", 4009, 7500, "870442"),
    ("goods", "diesel_hybrid", 8866, 25000, "870443"),
    ("goods", "diesel_plug_in_hybrid", 2982, 3500, "870441"),
    ("goods", "hybrid", 2393, 2900, "870451"),
    ("goods", "plug_in_hybrid", 2393, 3100, "870451"),
    ("goods", "hybrid", 4009, 7000, "870452"),
    ("goods", "electric", None, 2220, "870460"),
    ("goods", "electric", None, 16000, "870460"),
    ("goods", "fuel_cell", None, 27000, "870460"),
    ("goods", "other", None, 3000, "870490"),
]


@pytest.fixture(scope="module")
def classification() -> pl.DataFrame:
    return read_classification()


@pytest.mark.parametrize(("vehicle_class", "propulsion", "engine_cc", "gvw_kg", "expected"), CASES)
def test_classification_of_every_subheading(classification, vehicle_class, propulsion, engine_cc, gvw_kg, expected):
    vehicle = pl.DataFrame(
        {"vehicle_class": [vehicle_class], "propulsion": [propulsion], "engine_cc": [engine_cc], "gvw_kg": [gvw_kg]},
        schema={"vehicle_class": pl.Utf8, "propulsion": pl.Utf8, "engine_cc": pl.Int64, "gvw_kg": pl.Int64},
    )
    assert classify_vehicles(vehicle, classification)["hts_expected"].item() == expected


def test_every_subheading_of_8703_and_8704_is_reachable(classification):
    subheadings = {c[-1] for c in CASES}
    assert subheadings == {
        "870321", "870322", "870323", "870324", "870331", "870332", "870333", "870340", "870350",
        "870360", "870370", "870380", "870390", "870421", "870422", "870423", "870431", "870432",
        "870441", "870442", "870443", "870451", "870452", "870460", "870490",
    }
    assert set(classification["hts6"]) == subheadings


def test_petrol_car_without_engine_size_has_no_subheading(classification):
    vehicle = pl.DataFrame(
        {"vehicle_class": ["passenger"], "propulsion": ["petrol"], "engine_cc": [None], "gvw_kg": [1500]},
        schema={"vehicle_class": pl.Utf8, "propulsion": pl.Utf8, "engine_cc": pl.Int64, "gvw_kg": pl.Int64},
    )
    assert classify_vehicles(vehicle, classification)["hts_expected"].item() is None


def test_shipped_classification_table_has_no_overlaps(classification):
    assert classification_overlaps(classification).height == 0


def test_overlapping_rows_are_detected_and_refused(classification):
    broken = pl.concat(
        [
            classification,
            classification.filter(pl.col("hts6") == "870323").with_columns(
                engine_cc_over=pl.lit(2000, pl.Int64), hts6=pl.lit("870399")
            ),
        ]
    )
    overlaps = classification_overlaps(broken)
    assert overlaps.select("hts6", "hts6_other").rows() == [("870323", "870399")]
    vehicle = pl.DataFrame({"vehicle_class": ["passenger"], "propulsion": ["petrol"], "engine_cc": [2487], "gvw_kg": [2000]})
    with pytest.raises(ValueError, match="ambiguous"):
        classify_vehicles(vehicle, broken)


# --------------------------------------------------------------------------- allocation


def _alloc(amount: str, weights: list[str]) -> list[Decimal]:
    frame = pl.DataFrame(
        {
            "line": [1] * len(weights),
            "vin": [f"V{i:02d}" for i in range(len(weights))],
            "amount": [Decimal(amount)] * len(weights),
            "weight": [Decimal(w) for w in weights],
        },
        schema={"line": pl.Int64, "vin": pl.Utf8, "amount": MONEY, "weight": MONEY},
    )
    out = allocate_cents(frame, amount="amount", weight="weight", by=["line"], tie_break=["vin"], out="share")
    return out["share"].to_list()


def test_allocation_by_value_exact():
    # 15 % of 30,000.00 = 4,500.00 over vehicles worth 10,000 and 20,000: 1,500.00 and 3,000.00
    assert _alloc("4500.00", ["10000.00", "20000.00"]) == [Decimal("1500.00"), Decimal("3000.00")]


def test_allocation_left_over_cent_goes_to_largest_remainder_then_lowest_vin():
    # 100.00 over three equal vehicles: 10000 cents / 3 = 3333 r 1 each; the left-over cent
    # goes to the first VIN (equal remainders)
    assert _alloc("100.00", ["1.00", "1.00", "1.00"]) == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    # 0.05 over 1:2: exact 1.67 and 3.33 cents → floors 1 and 3, remainders 2/3 and 1/3: the
    # cent goes to the first → 0.02 and 0.03
    assert _alloc("0.05", ["1.00", "2.00"]) == [Decimal("0.02"), Decimal("0.03")]


def test_allocation_with_all_values_zero_is_equal():
    assert _alloc("10.00", ["0.00", "0.00", "0.00", "0.00"]) == [Decimal("2.50")] * 4


@settings(max_examples=200, deadline=None)
@given(
    amount_cents=st.integers(min_value=0, max_value=10**11),
    weights_cents=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30),
)
def test_allocation_sums_back_exactly_and_stays_within_a_cent(amount_cents, weights_cents):
    amount = Decimal(amount_cents) / 100
    weights = [str(Decimal(w) / 100) for w in weights_cents]
    shares = _alloc(str(amount), weights)
    assert sum(shares) == amount
    total = sum(weights_cents)
    for share, weight in zip(shares, weights_cents, strict=True):
        exact = Decimal(amount_cents) * (Decimal(weight) if total else 1) / (total or len(weights_cents))
        assert abs(share * 100 - exact) < 1
        assert share >= 0


# --------------------------------------------------------------------------- the mart


def _lines(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "entry_number": pl.Utf8, "line_number": pl.Int64, "entry_date": pl.Date, "month": pl.Utf8,
            "hts_code": pl.Utf8, "country_of_origin": pl.Utf8, "customs_value_usd": MONEY,
            "quantity": pl.Decimal(38, 10), "quantity_unit": pl.Utf8, "total_duty_usd": MONEY,
            "mpf_usd": MONEY, "hmf_usd": MONEY, "total_cost_usd": MONEY,
        },
    )


def _vehicles(rows: list[dict]) -> pl.DataFrame:
    schema = {
        "vin": pl.Utf8, "entry_number": pl.Utf8, "line_number": pl.Int64, "entry_date": pl.Date,
        "month": pl.Utf8, "make": pl.Utf8, "model": pl.Utf8, "model_year": pl.Int64,
        "vehicle_class": pl.Utf8, "propulsion": pl.Utf8, "engine_cc": pl.Int64, "gvw_kg": pl.Int64,
        "msrp_usd": MONEY, "customs_value_usd": MONEY, "source_row": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


DAY = dt.date(2025, 10, 6)
ENTRY = "EBJ10000017"


def _line(line_number: int, hts: str, value: str, quantity: int, duty: str, mpf: str, hmf: str) -> dict:
    cost = Decimal(duty) + Decimal(mpf) + Decimal(hmf)
    return dict(
        entry_number=ENTRY, line_number=line_number, entry_date=DAY, month="2025-10", hts_code=hts,
        country_of_origin="JP", customs_value_usd=Decimal(value), quantity=Decimal(quantity), quantity_unit="NO",
        total_duty_usd=Decimal(duty), mpf_usd=Decimal(mpf), hmf_usd=Decimal(hmf), total_cost_usd=cost,
    )


def _vehicle(vin: str, line_number: int, model: str, propulsion: str, cc: int | None, value: str, msrp: str, make: str = "Toyota") -> dict:
    return dict(
        vin=vin, entry_number=ENTRY, line_number=line_number, entry_date=DAY, month="2025-10", make=make,
        model=model, model_year=2026, vehicle_class="passenger", propulsion=propulsion, engine_cc=cc,
        gvw_kg=2000, msrp_usd=Decimal(msrp), customs_value_usd=Decimal(value), source_row=1,
    )


@pytest.fixture(scope="module")
def references():
    return read_vehicle_references()


def test_golden_line_with_a_misdeclared_electric_car(references):
    # Line 1: three cars on petrol 8703.23.01.40, worth 30,000 + 25,000 + 25,000 = 80,000.00.
    # Japan deal (from 2025-09-16): 15 % inclusive → duty 12,000.00; MPF 277.12 (0.3464 %),
    # HMF 100.00 (0.125 %): fees 377.12.
    # duty: 12,000 × 30/80 = 4,500.00; × 25/80 = 3,750.00 each.
    # fees: 37712 cents × 3/8 = 14142 exactly; × 2.5/8 = 11785 each → 14142 + 2 × 11785 = 37712.
    lines = _lines([_line(1, "8703230140", "80000.00", 3, "12000.00", "277.12", "100.00")])
    vehicles = _vehicles(
        [
            _vehicle("JTMAAAAA1T0000001", 1, "RAV4", "petrol", 2487, "30000.00", "37000.00"),
            # an electric bZ4X declared on the petrol line: 8703.80 expected, not 8703.23
            _vehicle("JTMAAAAA1T0000002", 1, "bZ4X", "electric", None, "25000.00", "40000.00"),
            _vehicle("JF1AAAAA1T0000003", 1, "GR86", "petrol", 2387, "25000.00", "31000.00"),
        ]
    )
    result = build_fct_vehicle_duty(vehicles, lines, references)
    fct = SCHEMA.validate(result.fct_vehicle_duty)
    got = fct.select("vin", "hts_expected", "classification_ok", "maker_from_wmi", "maker_mismatch", "duty_usd", "fees_usd", "total_cost_usd", "duty_share_of_msrp").rows()
    assert got == [
        ("JF1AAAAA1T0000003", "870323", True, "Subaru", True, Decimal("3750.00"), Decimal("117.85"), Decimal("3867.85"), Decimal("0.120968")),
        ("JTMAAAAA1T0000001", "870323", True, "Toyota", False, Decimal("4500.00"), Decimal("141.42"), Decimal("4641.42"), Decimal("0.121622")),
        ("JTMAAAAA1T0000002", "870380", False, "Toyota", False, Decimal("3750.00"), Decimal("117.85"), Decimal("3867.85"), Decimal("0.093750")),
    ]
    # 3750 / 31000 = 0.1209677 → 0.120968; 4500 / 37000 = 0.1216216 → 0.121622
    assert result.warnings.select("check", "message").rows() == [
        (
            "classification_mismatch",
            "1 vehicle(s) on this 8703230140 line classify as 870380 by their class, propulsion, engine and weight",
        )
    ]
    LINE_SUMS_SCHEMA.validate(line_sums(fct, lines))


def test_vehicle_duty_sums_to_line_duty_when_values_sum_to_line_value(references):
    lines = _lines(
        [
            _line(1, "8703400020", "100000.01", 3, "15000.00", "346.40", "125.00"),
            _line(2, "8703800020", "33333.33", 2, "5000.00", "115.47", "41.67"),
        ]
    )
    vehicles = _vehicles(
        [
            _vehicle("JTDAAAAA1T0000001", 1, "Prius", "hybrid", 1987, "33333.33", "40000.00"),
            _vehicle("JTDAAAAA1T0000002", 1, "Prius", "hybrid", 1987, "33333.34", "40000.00"),
            _vehicle("JTDAAAAA1T0000003", 1, "Prius", "hybrid", 1987, "33333.34", "40000.00"),
            _vehicle("JTMAAAAA1T0000004", 2, "bZ4X", "electric", None, "11111.11", "40000.00"),
            _vehicle("JTMAAAAA1T0000005", 2, "bZ4X", "electric", None, "22222.22", "40000.00"),
        ]
    )
    result = build_fct_vehicle_duty(vehicles, lines, references)
    sums = line_sums(result.fct_vehicle_duty, lines)
    LINE_SUMS_SCHEMA.validate(sums)
    assert sums.select("vehicles_duty_usd", "vehicles_fees_usd").rows() == [
        (Decimal("15000.00"), Decimal("471.40")),
        (Decimal("5000.00"), Decimal("157.14")),
    ]
    assert result.warnings.height == 0
    assert result.fct_vehicle_duty["classification_ok"].all()


def test_values_that_do_not_sum_still_allocate_by_share_and_warn(references):
    # vehicles worth 10,000 + 31,000 = 41,000 on a line declared at 40,000 with duty 6,000:
    # shares 10/41 and 31/41 → 600000 cents × 10/41 = 146341.46 → 146341, × 31/41 = 453658.54
    # → 453658; one cent left over goes to the larger remainder (.54) → 1,463.41 and 4,536.59
    lines = _lines([_line(1, "8703230140", "40000.00", 2, "6000.00", "138.56", "50.00")])
    vehicles = _vehicles(
        [
            _vehicle("JM1AAAAA1T0000001", 1, "Mazda3", "petrol", 2488, "10000.00", "30000.00", make="Mazda"),
            _vehicle("JM1AAAAA1T0000002", 1, "Mazda3", "petrol", 2488, "31000.00", "30000.00", make="Mazda"),
        ]
    )
    result = build_fct_vehicle_duty(vehicles, lines, references)
    assert result.fct_vehicle_duty["duty_usd"].to_list() == [Decimal("1463.41"), Decimal("4536.59")]
    assert result.warnings.select("check").to_series().to_list() == ["vehicle_values_do_not_sum"]
    assert "41000.00" in result.warnings["message"].item() and "40000.00" in result.warnings["message"].item()


def test_count_differing_from_quantity_and_uncosted_line_are_reported(references):
    lines = _lines([_line(1, "8703230140", "30000.00", 2, "4500.00", "103.92", "37.50")])
    vehicles = _vehicles(
        [
            _vehicle("JM1AAAAA1T0000001", 1, "CX-5", "petrol", 2488, "30000.00", "36000.00", make="Mazda"),
            _vehicle("JM1AAAAA1T0000002", 9, "CX-5", "petrol", 2488, "30000.00", "36000.00", make="Mazda"),
        ]
    )
    result = build_fct_vehicle_duty(vehicles, lines, references)
    assert result.fct_vehicle_duty["vin"].to_list() == ["JM1AAAAA1T0000001"]
    assert result.warnings.select("line_number", "check").rows() == [
        (1, "vehicle_count_differs_from_quantity"),
        (9, "line_not_costed"),
    ]
