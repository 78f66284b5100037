"""Hand-computed legal cases against the shipped default schedule: the worked examples of the
rules file and the day before / day of every layer boundary, per origin, for cars, light
trucks, medium/heavy trucks, parts and motorcycles. Arithmetic in each case's comment."""

from decimal import Decimal

import pytest

from tests.engine.tiny_schedule import lines
from transforms.duty import compute_line_duty

D = Decimal


def duty(schedule, hts, origin, date, value, quantity="1"):
    return compute_line_duty(lines((hts, origin, date, value, quantity)), schedule).row(0, named=True)


CAR = "8703230190"  # MFN 2.5%, note 33(b) 8703.23.01
LIGHT_TRUCK = "8704310120"  # MFN 25%, note 33(b) 8704.31.01
BRAKES = "8708305090"  # MFN 2.5%, 232 parts list prefix 870830
MOTORCYCLE = "8711406000"  # MFN 2.4%, outside every 232 list
MEDIUM_TRUCK = "8704225160"  # MFN 25%, GVW 5-20 t: US note 38(b), not note 33(b)
BUS = "8702103190"  # MFN 2%, US note 38(c)

CASES = [
    # (hts, origin, entry date, value, total duty, 232, ieepa, other, headings)
    # rules-file worked examples, $30,000 Japanese car
    (CAR, "JP", "2025-03-15", "30000.00", "750.00", "0.00", "0.00", "0.00", ""),  # 2.5%
    (CAR, "JP", "2025-06-10", "30000.00", "8250.00", "7500.00", "0.00", "0.00", "9903.94.01"),  # 2.5% + 25%
    (CAR, "JP", "2025-09-16", "30000.00", "4500.00", "3750.00", "0.00", "0.00", "9903.94.41"),  # 15% total
    (CAR, "JP", "2026-03-01", "30000.00", "4500.00", "3750.00", "0.00", "0.00", "9903.94.41"),  # no s122 on 232 goods
    (CAR, "JP", "2026-08-01", "30000.00", "4500.00", "3750.00", "0.00", "0.00", "9903.94.41"),  # no 2026 s301 on 232 goods
    # 232 autos start 2025-04-03: day before / day of
    (CAR, "JP", "2025-04-02", "30000.00", "750.00", "0.00", "0.00", "0.00", ""),
    (CAR, "JP", "2025-04-03", "30000.00", "8250.00", "7500.00", "0.00", "0.00", "9903.94.01"),
    # reciprocal days do not touch 232 cars: 2025-04-09 (Japan 24% day) still 2.5% + 25%
    (CAR, "JP", "2025-04-09", "30000.00", "8250.00", "7500.00", "0.00", "0.00", "9903.94.01"),
    # Japan deal 2025-09-16 is not retroactive: 2025-09-15 still 27.5%
    (CAR, "JP", "2025-09-15", "30000.00", "8250.00", "7500.00", "0.00", "0.00", "9903.94.01"),
    # the deal is Japan's: a German car keeps 2.5% + 25% = 27.5% of 30,000 = 8,250.00
    (CAR, "DE", "2025-09-16", "30000.00", "8250.00", "7500.00", "0.00", "0.00", "9903.94.01"),
    (CAR, "DE", "2026-03-01", "30000.00", "8250.00", "7500.00", "0.00", "0.00", "9903.94.01"),
    # light truck, MFN 25%, $40,000: 25% = 10,000; 232 era 25% + 25% = 20,000;
    # deal era MFN >= 15% -> 9903.94.40, no extra: 10,000
    (LIGHT_TRUCK, "JP", "2025-04-02", "40000.00", "10000.00", "0.00", "0.00", "0.00", ""),
    (LIGHT_TRUCK, "JP", "2025-04-03", "40000.00", "20000.00", "10000.00", "0.00", "0.00", "9903.94.01"),
    (LIGHT_TRUCK, "JP", "2025-09-16", "40000.00", "10000.00", "0.00", "0.00", "0.00", "9903.94.40"),
    # brake part, MFN 2.5%, $10,000 (MFN 250.00)
    (BRAKES, "JP", "2025-04-04", "10000.00", "250.00", "0.00", "0.00", "0.00", ""),
    (BRAKES, "JP", "2025-04-05", "10000.00", "1250.00", "0.00", "1000.00", "0.00", "9903.01.25"),  # + 10% baseline
    (BRAKES, "JP", "2025-04-09", "10000.00", "2650.00", "0.00", "2400.00", "0.00", "9903.01.53"),  # + 24% one day
    (BRAKES, "JP", "2025-04-10", "10000.00", "1250.00", "0.00", "1000.00", "0.00", "9903.01.25"),  # paused: 10%
    (BRAKES, "JP", "2025-05-02", "10000.00", "1250.00", "0.00", "1000.00", "0.00", "9903.01.25"),
    (BRAKES, "JP", "2025-05-03", "10000.00", "2750.00", "2500.00", "0.00", "0.00", "9903.94.05"),  # 232 parts, IEEPA excluded
    (BRAKES, "JP", "2025-09-15", "10000.00", "2750.00", "2500.00", "0.00", "0.00", "9903.94.05"),
    (BRAKES, "JP", "2025-09-16", "10000.00", "1500.00", "1250.00", "0.00", "0.00", "9903.94.43"),  # 15% total
    (BRAKES, "JP", "2026-03-01", "10000.00", "1500.00", "1250.00", "0.00", "0.00", "9903.94.43"),
    (BRAKES, "DE", "2025-09-16", "10000.00", "2750.00", "2500.00", "0.00", "0.00", "9903.94.05"),
    # motorcycle, MFN 2.4%, $10,000 (MFN 240.00), never a 232 good
    (MOTORCYCLE, "JP", "2025-04-04", "10000.00", "240.00", "0.00", "0.00", "0.00", ""),
    (MOTORCYCLE, "JP", "2025-04-05", "10000.00", "1240.00", "0.00", "1000.00", "0.00", "9903.01.25"),
    (MOTORCYCLE, "JP", "2025-08-06", "10000.00", "1240.00", "0.00", "1000.00", "0.00", "9903.01.25"),
    # 2025-08-07: Japan 15% inclusive: 1,500 - 240 = 1,260 extra under 9903.02.73
    (MOTORCYCLE, "JP", "2025-08-07", "10000.00", "1500.00", "0.00", "1260.00", "0.00", "9903.02.73"),
    (MOTORCYCLE, "JP", "2026-02-23", "10000.00", "1500.00", "0.00", "1260.00", "0.00", "9903.02.73"),
    # IEEPA ends; Section 122 +10% from 2026-02-24 to 2026-07-23
    (MOTORCYCLE, "JP", "2026-02-24", "10000.00", "1240.00", "0.00", "0.00", "1000.00", "9903.03.01"),
    (MOTORCYCLE, "JP", "2026-07-23", "10000.00", "1240.00", "0.00", "0.00", "1000.00", "9903.03.01"),
    # 2026-07-24: Section 301 (UNCONFIRMED) 12.5% total: 1,250 - 240 = 1,010 under 9903.05.49
    (MOTORCYCLE, "JP", "2026-07-24", "10000.00", "1250.00", "0.00", "0.00", "1010.00", "9903.05.49"),
    # other origins: German motorcycle pays the 10% baseline in the Japan-deal era, and no 2026 s301
    (MOTORCYCLE, "DE", "2025-08-07", "10000.00", "1240.00", "0.00", "1000.00", "0.00", "9903.01.25"),
    (MOTORCYCLE, "DE", "2026-07-24", "10000.00", "240.00", "0.00", "0.00", "0.00", ""),
    # medium truck, MFN 25%, $100,000 (MFN 25,000): not a 232 auto, so it pays IEEPA until
    # the truck 232 starts; the Japan 15% inclusive adds nothing at MFN 25% (9903.02.72)
    (MEDIUM_TRUCK, "JP", "2025-04-05", "100000.00", "35000.00", "0.00", "10000.00", "0.00", "9903.01.25"),
    (MEDIUM_TRUCK, "JP", "2025-08-07", "100000.00", "25000.00", "0.00", "0.00", "0.00", "9903.02.72"),
    (MEDIUM_TRUCK, "JP", "2025-10-31", "100000.00", "25000.00", "0.00", "0.00", "0.00", "9903.02.72"),
    # 2025-11-01: 232 medium/heavy trucks +25%, no Japan cap, IEEPA excluded (note 2(v)(xiv)):
    # 25,000 + 25,000 = 50,000
    (MEDIUM_TRUCK, "JP", "2025-11-01", "100000.00", "50000.00", "25000.00", "0.00", "0.00", "9903.74.01"),
    (MEDIUM_TRUCK, "JP", "2026-03-01", "100000.00", "50000.00", "25000.00", "0.00", "0.00", "9903.74.01"),
    # the light truck on the same day stays under the Japan deal: 25% MFN only (9903.94.40)
    (LIGHT_TRUCK, "JP", "2025-11-01", "40000.00", "10000.00", "0.00", "0.00", "0.00", "9903.94.40"),
    # bus, MFN 2%, $100,000: 2,000 + 10% (9903.74.02) = 12,000 from 2025-11-01
    # the day before, the Japan reciprocal 15% total applies: 2,000 + 13,000 = 15,000
    (BUS, "JP", "2025-10-31", "100000.00", "15000.00", "0.00", "13000.00", "0.00", "9903.02.73"),
    (BUS, "JP", "2025-11-01", "100000.00", "12000.00", "10000.00", "0.00", "0.00", "9903.74.02"),
]


@pytest.mark.parametrize("hts,origin,date,value,total,s232,ieepa,other,headings", CASES)
def test_legal_case(schedule, hts, origin, date, value, total, s232, ieepa, other, headings):
    row = duty(schedule, hts, origin, date, value)
    assert (row["total_duty_usd"], row["section_232_duty_usd"], row["ieepa_duty_usd"], row["other_duty_usd"]) == (
        D(total), D(s232), D(ieepa), D(other))
    assert row["ch99_headings"] == headings


def test_unconfirmed_section_301_is_flagged(schedule):
    assert "unconfirmed:" in duty(schedule, MOTORCYCLE, "JP", "2026-07-24", "10000.00")["flags"]
    assert duty(schedule, MOTORCYCLE, "JP", "2026-07-23", "10000.00")["flags"] == ""


def test_metal_derivative_motorcycles_pay_on_declared_steel_and_are_flagged_without_it(schedule):
    # 8711.30 (MFN Free) became a steel derivative (9903.81.91) from 2025-08-18; 232 auto parts
    # are not derivatives (note 33(a)). Air freight: no in-transit rule can apply.
    import polars as pl

    frame = lines(
        ("8711300000", "JP", "2025-08-17", "1000.00", "1"),
        ("8711300000", "JP", "2025-08-18", "1000.00", "1"),
        ("8711300000", "JP", "2025-08-18", "1000.00", "1"),
        (BRAKES, "JP", "2025-08-18", "1000.00", "1"),
    ).with_columns(
        steel_content_value_usd=pl.Series([None, None, Decimal("300.00"), None], dtype=pl.Decimal(18, 2)),
        transport_mode=pl.lit("air"),
    )
    out = compute_line_duty(frame, schedule).sort("line_number")
    assert out["flags"].to_list() == ["", "metal content not declared", "", ""]
    # the day before the listing: 15% x 1000 = 150.00 (9903.02.73) and nothing on the steel;
    # listed, content not declared: priced as before (150.00), flagged;
    # listed, steel 300.00: 50% x 300 = 150.00 + 15% x (1000 - 300) = 105.00 -> 255.00;
    # brakes: 2.5% x 1000 = 25.00 + 25% x 1000 = 250.00 (9903.94.05, no metal duty) -> 275.00
    assert out["total_duty_usd"].to_list() == [D("150.00"), D("150.00"), D("255.00"), D("275.00")]
    assert out["ch99_headings"].to_list() == ["9903.02.73", "9903.02.73", "9903.02.73, 9903.81.91", "9903.94.05"]
