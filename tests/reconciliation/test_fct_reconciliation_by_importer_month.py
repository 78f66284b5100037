"""Golden rows for fct_reconciliation_by_importer_month: the importer x month roll-up of the
hand-computed lines of test_fct_reconciliation.py (their arithmetic is in its LINES comments)."""

from decimal import Decimal

import polars as pl
import pytest

from schemas.fct_reconciliation_by_importer_month import SCHEMA as ROLLUP_SCHEMA
from tests.reconciliation.recon_schedule import SCHEDULE
from tests.reconciliation.test_fct_reconciliation import LINES
from transforms.fct_reconciliation import build_fct_reconciliation
from transforms.fct_reconciliation_by_importer_month import build_fct_reconciliation_by_importer_month

D = Decimal

@pytest.fixture(scope="module")
def reconciliation() -> pl.DataFrame:
    return build_fct_reconciliation(LINES, SCHEDULE)


def test_rollup_by_importer_month_is_the_exact_sum_of_the_lines(reconciliation):
    rollup = build_fct_reconciliation_by_importer_month(reconciliation)
    ROLLUP_SCHEMA.validate(rollup)
    got = {
        (r["month"], r["importer_id"]): (
            r["line_count"], r["match_count"], r["overpaid_count"], r["underpaid_count"], r["unexplained_count"],
            r["declared_duty_usd"], r["total_duty_usd"], r["difference_usd"], r["overpaid_usd"], r["underpaid_usd"],
        )
        for r in rollup.to_dicts()
    }
    assert got == {
        ("2025-03", "IMP2"): (1, 1, 0, 0, 0, D("750.01"), D("750.00"), D("-0.01"), D("0.00"), D("0.00")),
        ("2025-06", "IMP1"): (1, 1, 0, 0, 0, D("8250.00"), D("8250.00"), D("0.00"), D("0.00"), D("0.00")),
        # 240.00 + 1,000.00 declared; 1,240.00 + 8,250.00 computed; +1,000.00 + 7,250.00 underpaid
        ("2025-06", "IMP2"): (2, 0, 0, 2, 1, D("1240.00"), D("9490.00"), D("8250.00"), D("0.00"), D("8250.00")),
        ("2025-09", "IMP1"): (1, 0, 1, 0, 0, D("1740.00"), D("1500.00"), D("-240.00"), D("240.00"), D("0.00")),
        ("2025-09", "IMP2"): (1, 0, 0, 1, 0, D("1240.00"), D("1500.00"), D("260.00"), D("0.00"), D("260.00")),
        ("2025-10", "IMP1"): (1, 0, 1, 0, 0, D("8250.00"), D("4500.00"), D("-3750.00"), D("3750.00"), D("0.00")),
        ("2026-02", "IMP1"): (1, 0, 0, 1, 0, D("11556.70"), D("21187.29"), D("9630.59"), D("0.00"), D("9630.59")),
    }
