"""fct_duty_by_hs_month golden rows: the hand-priced month of tests/marts/golden_month.py
aggregated to month x hts_code x country_of_origin; every sum is exact (the per-line amounts
and their arithmetic are in tests/marts/test_fct_duty_lines.py)."""

from __future__ import annotations

from schemas.fct_duty_by_hs_month import SCHEMA
from tests.marts.golden_month import BRAKES, CAR, MOTORCYCLE, golden_lines
from transforms.fct_duty_by_hs_month import SUMMED, build_fct_duty_by_hs_month

# (hts, lines, value, mfn, 232, ieepa, other, total duty, mpf, hmf, total cost, effective rate)
GOLDEN = [
    # two cars (entries A and C): value 30,000 + 20,000 = 50,000.00; MFN 750 + 500 = 1,250.00;
    # 232 7,500 + 5,000 = 12,500.00; duty 13,750.00; MPF 103.92 + 69.28 = 173.20;
    # HMF 37.50 + 25.00 = 62.50; cost 8,391.42 + 5,594.28 = 13,985.70 (= 13,750 + 173.20 + 62.50);
    # rate 13,750 / 50,000 = 0.275
    (CAR, 2, "50000.00", "1250.00", "12500.00", "0.00", "0.00", "13750.00", "173.20", "62.50", "13985.70",
     "0.275000"),
    # the brake part alone: 2,750.00 of 10,000.00
    (BRAKES, 1, "10000.00", "250.00", "2500.00", "0.00", "0.00", "2750.00", "34.64", "12.50", "2797.14",
     "0.275000"),
    # the motorcycle alone: 620.00 of 5,000.00 = 0.124
    (MOTORCYCLE, 1, "5000.00", "120.00", "0.00", "500.00", "0.00", "620.00", "32.71", "0.00", "652.71",
     "0.124000"),
]


def test_fct_duty_by_hs_month_golden_rows(tmp_path, schedule):
    mart = SCHEMA.validate(build_fct_duty_by_hs_month(golden_lines(tmp_path, schedule)), lazy=True)
    got = [
        (r["hts_code"], r["line_count"], *(str(r[c]) for c in SUMMED), str(r["effective_duty_rate"]))
        for r in mart.iter_rows(named=True)
    ]
    assert sorted(got) == sorted(GOLDEN)
    assert mart.select("month", "country_of_origin").unique().rows() == [("2025-06", "JP")]
    assert mart.columns[:3] == ["month", "hts_code", "country_of_origin"]


def test_fct_duty_by_hs_month_sums_equal_the_line_sums(tmp_path, schedule):
    lines = golden_lines(tmp_path, schedule)
    mart = build_fct_duty_by_hs_month(lines)
    for column in SUMMED:
        assert mart[column].sum() == lines[column].sum(), column
    assert mart["line_count"].sum() == lines.height
