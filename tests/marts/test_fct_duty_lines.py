"""fct_duty_lines golden rows: one hand-priced month (tests/marts/golden_month.py) through the
real loader, engine and fee allocation, checked cent for cent against the shipped schedule
(tariff-rules.md rates; fees.csv MPF 0.3464% with FY2025 bounds $32.71-$634.62, HMF 0.125% by
vessel), and the mart's contract (schemas/fct_duty_lines.py)."""

from __future__ import annotations

from decimal import Decimal

from schemas.fct_duty_lines import SCHEMA
from tests.marts.golden_month import BRAKES, CAR, MOTORCYCLE, golden_lines

D = Decimal
MONEY_COLUMNS = [
    "customs_value_usd", "mfn_duty_usd", "section_232_duty_usd", "ieepa_duty_usd", "other_duty_usd",
    "total_duty_usd", "mpf_usd", "hmf_usd", "total_cost_usd",
]

# (entry, line, hts, value, mfn, 232, ieepa, other, total duty, mpf, hmf, total cost, effective rate, headings)
GOLDEN = [
    # entry A: value 40,000.00; MPF 0.3464% x 40,000 = 138.56 (inside 32.71..634.62), split by
    # value 3:1 -> 103.92 / 34.64; HMF 0.125% x 40,000 = 50.00 -> 37.50 / 12.50.
    # car: MFN 2.5% x 30,000 = 750.00; 232 autos +25% = 7,500.00; duty 8,250.00 (27.5%);
    # cost 8,250.00 + 103.92 + 37.50 = 8,391.42
    ("GLD10000001", 1, CAR, "30000.00", "750.00", "7500.00", "0.00", "0.00", "8250.00",
     "103.92", "37.50", "8391.42", "0.275000", "9903.94.01"),
    # brake part: MFN 2.5% x 10,000 = 250.00; 232 auto parts +25% (from 2025-05-03) = 2,500.00,
    # IEEPA excluded on 232 goods; duty 2,750.00; cost 2,750.00 + 34.64 + 12.50 = 2,797.14
    ("GLD10000001", 2, BRAKES, "10000.00", "250.00", "2500.00", "0.00", "0.00", "2750.00",
     "34.64", "12.50", "2797.14", "0.275000", "9903.94.05"),
    # entry B, motorcycle by air: MFN 2.4% x 5,000 = 120.00; IEEPA baseline +10% (2025-04-05 to
    # 2025-08-06) = 500.00; duty 620.00 (12.4%); MPF 0.3464% x 5,000 = 17.32 -> minimum 32.71;
    # no HMF by air; cost 620.00 + 32.71 = 652.71
    ("GLD10000002", 1, MOTORCYCLE, "5000.00", "120.00", "0.00", "500.00", "0.00", "620.00",
     "32.71", "0.00", "652.71", "0.124000", "9903.01.25"),
    # entry C, car: MFN 2.5% x 20,000 = 500.00; 232 +25% = 5,000.00; duty 5,500.00;
    # MPF 0.3464% x 20,000 = 69.28; HMF 0.125% x 20,000 = 25.00; cost 5,594.28
    ("GLD10000003", 1, CAR, "20000.00", "500.00", "5000.00", "0.00", "0.00", "5500.00",
     "69.28", "25.00", "5594.28", "0.275000", "9903.94.01"),
]


def test_fct_duty_lines_golden_rows(tmp_path, schedule):
    lines = SCHEMA.validate(golden_lines(tmp_path, schedule), lazy=True)
    got = [
        (
            r["entry_number"], r["line_number"], r["hts_code"], *(str(r[c]) for c in MONEY_COLUMNS),
            str(r["effective_duty_rate"]), r["ch99_headings"],
        )
        for r in lines.iter_rows(named=True)
    ]
    assert got == GOLDEN
    assert lines["month"].unique().to_list() == ["2025-06"]
    assert lines["country_of_origin"].unique().to_list() == ["JP"]


def test_fct_duty_lines_fees_are_whole_entry_amounts_split_exactly(tmp_path, schedule):
    lines = golden_lines(tmp_path, schedule)
    entry_a = lines.filter(lines["entry_number"] == "GLD10000001")
    assert entry_a["mpf_usd"].sum() == D("138.56")  # 0.3464% x 40,000.00, one fee per entry
    assert entry_a["hmf_usd"].sum() == D("50.00")  # 0.125% x 40,000.00
