"""Golden rows for the IEEPA refund ledger and its importer × month roll-up, hand-computed
under the Japan-shaped schedule of tests/reconciliation/recon_schedule.py, as of 2026-11-27,
with the shipped refund status rules (liquidation estimated at entry + 314 days; CAPE for
unliquidated entries and entries within 80 days of liquidation)."""

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from flows.inputs.refund_rules import read_refund_status_rules
from schemas.fct_ieepa_refunds import SCHEMA as LEDGER_SCHEMA
from schemas.fct_ieepa_refunds_by_importer_month import SCHEMA as ROLLUP_SCHEMA
from tests.reconciliation.recon_schedule import CAR, LIGHT_TRUCK, MOTORCYCLE, SCHEDULE, SMALL_MOTORCYCLE, priced
from transforms.fct_ieepa_refunds import build_fct_ieepa_refunds, ieepa_headings
from transforms.fct_ieepa_refunds_by_importer_month import build_fct_ieepa_refunds_by_importer_month

D = Decimal
AS_OF = dt.date(2026, 11, 27)
RULES = read_refund_status_rules()
LINES = priced(
    # first IEEPA day: motorcycle 2.4%, baseline +10% of 1,000.00 = 100.00 (9903.01.25)
    ("JPN00000011", 1, "2025-04-05", MOTORCYCLE, "1000.00", None, "IMP1"),
    # day before: no IEEPA -> not in the ledger
    ("JPN00000029", 1, "2025-04-04", MOTORCYCLE, "1000.00", None, "IMP1"),
    # 2025-06-01: +10% of 10,000.00 = 1,000.00; declared 240.00 = MFN only -> declared IEEPA 0.00
    ("JPN00000037", 1, "2025-06-01", MOTORCYCLE, "10000.00", "240.00", "IMP2"),
    # same entry, Free motorcycle: +10% of 5,000.00 = 500.00, nothing declared
    ("JPN00000037", 2, "2025-06-01", SMALL_MOTORCYCLE, "5000.00", None, "IMP2"),
    # car 2025-06-10: under 232, excluded from IEEPA -> not in the ledger
    ("JPN00000045", 1, "2025-06-10", CAR, "30000.00", "8250.00", "IMP2"),
    # 2025-09-01 Japan 15% total: 1,500.00 - MFN 240.00 = 1,260.00 (9903.02.73);
    # declared 1,740.00 - 240.00 = 1,500.00 of IEEPA paid (stacked reading)
    ("JPN00000052", 1, "2025-09-01", MOTORCYCLE, "10000.00", "1740.00", "IMP1"),
    # light truck MFN 25% >= 15%: companion heading 9903.02.72, no IEEPA duty -> not in the ledger
    ("JPN00000060", 1, "2025-09-01", LIGHT_TRUCK, "40000.00", None, "IMP1"),
    # 2025-11-20: 15% of 2,000.00 = 300.00 - MFN 48.00 = 252.00
    ("JPN00000078", 1, "2025-11-20", MOTORCYCLE, "2000.00", None, "IMP2"),
    # last IEEPA day 2026-02-23: 150.00 - 24.00 = 126.00; 2026-02-24: no IEEPA
    ("JPN00000086", 1, "2026-02-23", MOTORCYCLE, "1000.00", None, "IMP1"),
    ("JPN00000094", 1, "2026-02-24", MOTORCYCLE, "1000.00", None, "IMP1"),
)


@pytest.fixture(scope="module")
def ledger() -> pl.DataFrame:
    return build_fct_ieepa_refunds(LINES, SCHEDULE, RULES, AS_OF)


def test_ledger_golden_rows(ledger):
    LEDGER_SCHEMA.validate(ledger)
    got = {
        (r["entry_number"], r["line_number"]): (
            r["ieepa_duty_usd"], r["declared_ieepa_duty_usd"], r["ieepa_headings"],
            r["estimated_liquidation_date"], r["refund_status"], r["cape_eligible"],
        )
        for r in ledger.to_dicts()
    }
    # estimated liquidation = entry + 314 days; as of 2026-11-27 that is 287, 230, 138 days ago
    # (>= 80: outside CAPE), 58 days ago (within 80), or 37 days ahead (unliquidated)
    assert got == {
        ("JPN00000011", 1): (D("100.00"), None, "9903.01.25", dt.date(2026, 2, 13), "likely_finally_liquidated", False),
        ("JPN00000037", 1): (D("1000.00"), D("0.00"), "9903.01.25", dt.date(2026, 4, 11), "likely_finally_liquidated", False),
        ("JPN00000037", 2): (D("500.00"), None, "9903.01.25", dt.date(2026, 4, 11), "likely_finally_liquidated", False),
        ("JPN00000052", 1): (D("1260.00"), D("1500.00"), "9903.02.73", dt.date(2026, 7, 12), "likely_finally_liquidated", False),
        ("JPN00000078", 1): (D("252.00"), None, "9903.02.73", dt.date(2026, 9, 30), "likely_within_80_days_of_liquidation", True),
        ("JPN00000086", 1): (D("126.00"), None, "9903.02.73", dt.date(2027, 1, 3), "likely_unliquidated", True),
    }
    assert ledger.get_column("as_of_date").unique().to_list() == [AS_OF]
    assert all(note.startswith("Estimate") for note in ledger.get_column("refund_status_note"))


def test_ledger_total_is_the_ieepa_component_of_the_lines(ledger):
    # 100 + 1,000 + 500 + 1,260 + 252 + 126 = 3,238.00, the sum of every line's ieepa_duty_usd
    assert ledger.get_column("ieepa_duty_usd").sum() == LINES.get_column("ieepa_duty_usd").sum() == D("3238.00")


@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        # entry 2025-11-20 -> estimated liquidation 2026-09-30
        ("2026-09-29", "likely_unliquidated"),
        ("2026-09-30", "likely_within_80_days_of_liquidation"),
        ("2026-12-18", "likely_within_80_days_of_liquidation"),  # day 79
        ("2026-12-19", "likely_finally_liquidated"),  # day 80
    ],
)
def test_status_windows_are_half_open(as_of, status):
    one = LINES.filter(pl.col("entry_number") == "JPN00000078")
    row = build_fct_ieepa_refunds(one, SCHEDULE, RULES, dt.date.fromisoformat(as_of)).to_dicts()[0]
    assert row["refund_status"] == status


def test_ieepa_headings_come_from_the_schedule():
    assert ieepa_headings(SCHEDULE) == ["9903.01.25", "9903.02.72", "9903.02.73"]


def test_no_ieepa_lines_gives_empty_valid_tables():
    empty = build_fct_ieepa_refunds(LINES.filter(pl.col("ieepa_duty_usd") == 0), SCHEDULE, RULES, AS_OF)
    LEDGER_SCHEMA.validate(empty)
    ROLLUP_SCHEMA.validate(build_fct_ieepa_refunds_by_importer_month(empty))
    assert empty.height == 0
