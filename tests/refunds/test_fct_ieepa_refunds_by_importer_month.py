"""Golden rows for fct_ieepa_refunds_by_importer_month: the importer x month roll-up of the
hand-computed ledger lines of test_fct_ieepa_refunds.py (their arithmetic is in its LINES
comments), as of 2026-11-27."""

from decimal import Decimal

import polars as pl
import pytest

from schemas.fct_ieepa_refunds_by_importer_month import SCHEMA as ROLLUP_SCHEMA
from tests.reconciliation.recon_schedule import SCHEDULE
from tests.refunds.test_fct_ieepa_refunds import AS_OF, LINES, RULES
from transforms.fct_ieepa_refunds import build_fct_ieepa_refunds
from transforms.fct_ieepa_refunds_by_importer_month import build_fct_ieepa_refunds_by_importer_month

D = Decimal

@pytest.fixture(scope="module")
def ledger() -> pl.DataFrame:
    return build_fct_ieepa_refunds(LINES, SCHEDULE, RULES, AS_OF)


def test_rollup_by_importer_month(ledger):
    rollup = build_fct_ieepa_refunds_by_importer_month(ledger)
    ROLLUP_SCHEMA.validate(rollup)
    got = {
        (r["month"], r["importer_id"]): (
            r["entry_count"], r["line_count"], r["declared_line_count"], r["customs_value_usd"],
            r["ieepa_duty_usd"], r["declared_ieepa_duty_usd"], r["cape_eligible_ieepa_duty_usd"],
        )
        for r in rollup.to_dicts()
    }
    assert got == {
        ("2025-04", "IMP1"): (1, 1, 0, D("1000.00"), D("100.00"), D("0.00"), D("0.00")),
        ("2025-06", "IMP2"): (1, 2, 1, D("15000.00"), D("1500.00"), D("0.00"), D("0.00")),
        ("2025-09", "IMP1"): (1, 1, 1, D("10000.00"), D("1260.00"), D("1500.00"), D("0.00")),
        ("2025-11", "IMP2"): (1, 1, 0, D("2000.00"), D("252.00"), D("0.00"), D("252.00")),
        ("2026-02", "IMP1"): (1, 1, 0, D("1000.00"), D("126.00"), D("0.00"), D("126.00")),
    }
    assert rollup.get_column("ieepa_duty_usd").sum() == ledger.get_column("ieepa_duty_usd").sum()


def test_rollup_of_a_one_month_ledger_by_importer(ledger):
    # a monthly run's ledger holds one month (as a literal column, as compute_stage holds
    # it): every line of an importer in one row. IMP1: 100 + 1,260 + 126 (CAPE 126), IMP2:
    # 1,000 + 500 + 252 (CAPE 252), declared IEEPA 1,500.00 and 0.00
    one_month = ledger.with_columns(month=pl.lit("2025-06"))
    rollup = build_fct_ieepa_refunds_by_importer_month(one_month)
    ROLLUP_SCHEMA.validate(rollup)
    assert rollup.select("month", "importer_id", "entry_count", "line_count", "declared_line_count",
                         "customs_value_usd", "ieepa_duty_usd", "declared_ieepa_duty_usd",
                         "cape_eligible_ieepa_duty_usd").rows() == [
        ("2025-06", "IMP1", 3, 3, 1, D("12000.00"), D("1486.00"), D("1500.00"), D("126.00")),
        ("2025-06", "IMP2", 2, 3, 1, D("17000.00"), D("1752.00"), D("0.00"), D("252.00")),
    ]
