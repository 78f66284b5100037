"""Hand-computed what-if cases on the shipped schedule and scenarios (arithmetic in comments),
and fct_scenario_duty_by_hs_month on a single Japanese car (the issue's acceptance case)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from flows.inputs.scenarios import read_scenarios, shipped_scenarios
from flows.inputs.schedule import read_schedule
from schemas.fct_scenario_duty_by_hs_month import CONTRACT
from tests.engine.tiny_schedule import lines
from transforms.duty import compute_line_duty
from transforms.fct_duty_lines import build_fct_duty_lines
from transforms.fct_scenario_duty_by_hs_month import build_fct_scenario_duty_by_hs_month
from transforms.vocabulary import MONEY, RATE

D = Decimal
CAR = "8703230190"  # MFN 2.5%
BRAKES = "8708305090"  # MFN 2.5%, 232 parts list
MOTORCYCLE = "8711406000"  # MFN 2.4%, no 232


@pytest.fixture(scope="module")
def schedules():
    enacted = read_schedule()
    return {"as_enacted": enacted, **read_scenarios(shipped_scenarios(), enacted)}


CASES = [
    # (hts, entry date, value, scenario, total duty, effective rate)
    # Japanese car, October 2025, $30,000 -- the acceptance case
    (CAR, "2025-10-15", "30000.00", "as_enacted", "4500.00", "0.150000"),  # deal: 15% total = 4,500
    (CAR, "2025-10-15", "30000.00", "no_japan_deal", "8250.00", "0.275000"),  # 2.5% 750 + 232 25% 7,500
    (CAR, "2025-10-15", "30000.00", "pre_2025", "750.00", "0.025000"),  # MFN 2.5% only
    (CAR, "2025-10-15", "30000.00", "ieepa_upheld", "4500.00", "0.150000"),  # 232 goods excluded from IEEPA
    # brake part, October 2025, $10,000: deal 15% total 1,500; without it 2.5% + 25% = 2,750
    (BRAKES, "2025-10-15", "10000.00", "as_enacted", "1500.00", "0.150000"),
    (BRAKES, "2025-10-15", "10000.00", "no_japan_deal", "2750.00", "0.275000"),
    # motorcycle, September 2025, $10,000: enacted 15% inclusive = 1,500; as first enacted
    # (stacked) 2.4% 240 + 15% 1,500 = 1,740
    (MOTORCYCLE, "2025-09-10", "10000.00", "as_enacted", "1500.00", "0.150000"),
    (MOTORCYCLE, "2025-09-10", "10000.00", "no_japan_deal", "1740.00", "0.174000"),
    # motorcycle, March 2026: enacted MFN 240 + s122 10% 1,000 = 1,240; IEEPA upheld: 15% total 1,500
    (MOTORCYCLE, "2026-03-10", "10000.00", "as_enacted", "1240.00", "0.124000"),
    (MOTORCYCLE, "2026-03-10", "10000.00", "ieepa_upheld", "1500.00", "0.150000"),
    # motorcycle, August 2026: enacted s301 12.5% total = 1,250; IEEPA upheld (no 301): 1,500
    (MOTORCYCLE, "2026-08-10", "10000.00", "as_enacted", "1250.00", "0.125000"),
    (MOTORCYCLE, "2026-08-10", "10000.00", "ieepa_upheld", "1500.00", "0.150000"),
    (MOTORCYCLE, "2026-08-10", "10000.00", "pre_2025", "240.00", "0.024000"),
    # before any 2025 measure every scenario is MFN: car, 2025-03-15, 2.5% of 30,000 = 750
    (CAR, "2025-03-15", "30000.00", "no_japan_deal", "750.00", "0.025000"),
    (CAR, "2025-03-15", "30000.00", "ieepa_upheld", "750.00", "0.025000"),
]


@pytest.mark.parametrize("hts,date,value,scenario,total,rate", CASES)
def test_hand_computed_scenario_case(schedules, hts, date, value, scenario, total, rate):
    row = compute_line_duty(lines((hts, "JP", date, value, "1")), schedules[scenario]).row(0, named=True)
    assert (row["total_duty_usd"], row["effective_duty_rate"]) == (D(total), D(rate))


def staged_lines(rows: list[tuple[str, str, str, str]]) -> pl.DataFrame:
    """Staged lines: (entry_number, hts_code, entry_date, value), Japanese origin, one unit."""
    dates = [dt.date.fromisoformat(r[2]) for r in rows]
    return pl.DataFrame(
        {
            "entry_number": [r[0] for r in rows],
            "line_number": [1] * len(rows),
            "entry_date": dates,
            "month": [d.strftime("%Y-%m") for d in dates],
            "hts_code": [r[1] for r in rows],
            "country_of_origin": ["JP"] * len(rows),
            "customs_value_usd": [D(r[3]) for r in rows],
            "quantity": [D(1)] * len(rows),
            "quantity_unit": ["NO"] * len(rows),
            "transport_mode": ["vessel"] * len(rows),
            "port_code": ["2704"] * len(rows),
            "importer_id": ["IMP1"] * len(rows),
            "declared_duty_usd": [None] * len(rows),
            "steel_content_value_usd": [None] * len(rows),
            "aluminum_content_value_usd": [None] * len(rows),
            "source_row": list(range(1, len(rows) + 1)),
        },
        schema_overrides={"customs_value_usd": MONEY, "quantity": RATE, "declared_duty_usd": MONEY,
                          "steel_content_value_usd": MONEY, "aluminum_content_value_usd": MONEY},
    )


def test_scenario_mart_for_one_japanese_car(schedules):
    stg = staged_lines([("ABC12345678", CAR, "2025-10-15", "30000.00")])
    enacted = schedules["as_enacted"]
    lines_mart = build_fct_duty_lines(stg, enacted)
    scenarios = {name: schedules[name] for name in ("no_japan_deal", "pre_2025")}
    mart = CONTRACT.validate(build_fct_scenario_duty_by_hs_month(lines_mart, stg, scenarios))
    assert mart.select("scenario", "total_duty_usd", "section_232_duty_usd", "effective_duty_rate", "delta_vs_enacted_usd").rows() == [
        ("as_enacted", D("4500.00"), D("3750.00"), D("0.150000"), D("0.00")),  # 750 MFN + 3,750 (15% total)
        ("no_japan_deal", D("8250.00"), D("7500.00"), D("0.275000"), D("3750.00")),  # 750 + 7,500; 8,250 − 4,500
        ("pre_2025", D("750.00"), D("0.00"), D("0.025000"), D("-3750.00")),  # 750; 750 − 4,500
    ]
    assert mart.select(pl.col("month").unique()).item() == "2025-10"
