"""Golden rows for fct_reconciliation and its importer × month roll-up, hand-computed under the
Japan-shaped schedule of recon_schedule.py (Japanese goods, values in USD)."""

from decimal import Decimal

import polars as pl
import pytest

from schemas.fct_reconciliation import SCHEMA as RECONCILIATION_SCHEMA
from schemas.fct_reconciliation_by_importer_month import SCHEMA as ROLLUP_SCHEMA
from tests.reconciliation.recon_schedule import CAR, MOTORCYCLE, SCHEDULE, TRUCK_PART, priced
from transforms.fct_reconciliation import build_fct_reconciliation
from transforms.fct_reconciliation_by_importer_month import build_fct_reconciliation_by_importer_month

D = Decimal
LINES = priced(
    # car 2025-06-10: 2.5% + 232 +25% = 750.00 + 7,500.00 = 8,250.00, declared the same: match
    ("JPN00000011", 1, "2025-06-10", CAR, "30000.00", "8250.00", "IMP1"),
    # car after the 2025-09-16 deal: 15% total = 4,500.00; declared 2.5% + 25% = 8,250.00
    # -> -3,750.00 overpaid, the superseded +25% 232 heading
    ("JPN00000029", 1, "2025-10-01", CAR, "30000.00", "8250.00", "IMP1"),
    # motorcycle 2.4% on 2025-09-01: 15% total = 1,500.00 (240.00 + 1,260.00); declared the
    # Japan 15% stacked on MFN: 240.00 + 1,500.00 = 1,740.00 -> -240.00 overpaid
    ("JPN00000037", 1, "2025-09-01", MOTORCYCLE, "10000.00", "1740.00", "IMP1"),
    # motorcycle 2025-06-01: 240.00 + baseline 10% 1,000.00 = 1,240.00; declared MFN only
    # 240.00 -> +1,000.00 underpaid, the reciprocal duty omitted
    ("JPN00000045", 1, "2025-06-01", MOTORCYCLE, "10000.00", "240.00", "IMP2"),
    # motorcycle 2025-09-01: 1,500.00; declared under the old +10% baseline 1,240.00
    # -> +260.00 underpaid
    ("JPN00000052", 1, "2025-09-01", MOTORCYCLE, "10000.00", "1240.00", "IMP2"),
    # car 2025-06-10: 8,250.00; declared 1,000.00 -> +7,250.00 underpaid, no recognised cause
    ("JPN00000060", 1, "2025-06-10", CAR, "30000.00", "1000.00", "IMP2"),
    # car 2025-03-15 (before 232): 2.5% = 750.00; declared 750.01 -> -0.01 is within a cent: match
    ("JPN00000078", 1, "2025-03-15", CAR, "30000.00", "750.01", "IMP2"),
    # truck part 2026-02-04: MFN 2.5% 1,926.12 + 232 truck parts +25% 19,261.17 = 21,187.29;
    # declared with the Japan 15% (77,044.69 x 15% = 11,556.70) as if the truck-parts measure,
    # which has no Japan cap, did not apply -> +9,630.59 underpaid
    ("JPN00000086", 1, "2026-02-04", TRUCK_PART, "77044.69", "11556.70", "IMP1"),
    # no declared duty: not reconciled
    ("JPN00000078", 2, "2025-03-15", CAR, "1000.00", None, "IMP2"),
)


@pytest.fixture(scope="module")
def reconciliation() -> pl.DataFrame:
    return build_fct_reconciliation(LINES, SCHEDULE)


def test_one_row_per_line_with_declared_duty_and_valid_contract(reconciliation):
    RECONCILIATION_SCHEMA.validate(reconciliation)
    assert reconciliation.height == 8
    assert ("JPN00000078", 2) not in set(reconciliation.select("entry_number", "line_number").iter_rows())


def test_golden_rows(reconciliation):
    got = {
        r["entry_number"]: (r["total_duty_usd"], r["difference_usd"], r["status"], r["likely_cause"])
        for r in reconciliation.to_dicts()
    }
    assert got == {
        "JPN00000011": (D("8250.00"), D("0.00"), "match", None),
        "JPN00000029": (D("4500.00"), D("-3750.00"), "overpaid",
                        "declared under the superseded 9903.94.01 (autos) instead of 9903.94.41 (autos_jp, from 2025-09-16)"),
        "JPN00000037": (D("1500.00"), D("-240.00"), "overpaid",
                        "9903.02.73 (recip_jp) is 15% in total including MFN (from 2025-08-07); declared as +15% stacked on MFN"),
        "JPN00000045": (D("1240.00"), D("1000.00"), "underpaid", "recip duty (9903.01.25, ieepa) not declared"),
        "JPN00000052": (D("1500.00"), D("260.00"), "underpaid",
                        "declared under the superseded 9903.01.25 (recip) instead of 9903.02.73 (recip_jp, from 2025-08-07)"),
        "JPN00000060": (D("8250.00"), D("7250.00"), "underpaid", None),
        "JPN00000078": (D("750.00"), D("-0.01"), "match", None),
        "JPN00000086": (D("21187.29"), D("9630.59"), "underpaid",
                        "declared as if 9903.74.08 (mhd_parts, from 2025-11-01) did not apply: priced under 9903.02.73"),
    }


def test_a_two_cent_difference_is_not_a_match(reconciliation):
    # 750.00 computed vs 750.02 declared: -0.02 -> overpaid (one cent is the match tolerance)
    line = LINES.filter(pl.col("entry_number") == "JPN00000078", pl.col("line_number") == 1).with_columns(
        declared_duty_usd=pl.lit(D("750.02"), dtype=pl.Decimal(18, 2))
    )
    row = build_fct_reconciliation(line, SCHEDULE).to_dicts()[0]
    assert (row["difference_usd"], row["status"]) == (D("-0.02"), "overpaid")


def test_no_declared_duty_gives_empty_tables_with_the_contract_columns():
    empty = build_fct_reconciliation(LINES.with_columns(declared_duty_usd=pl.lit(None, dtype=pl.Decimal(18, 2))), SCHEDULE)
    RECONCILIATION_SCHEMA.validate(empty)
    ROLLUP_SCHEMA.validate(build_fct_reconciliation_by_importer_month(empty))
    assert empty.height == 0
