"""A small published warehouse for the report tests: two months of one car, one brake part
and one motorcycle from Japan, with the shipped scenarios, a reject, the runs rows, the IEEPA
refund ledger (as of 2026-11-01) and the October car declared under the superseded heading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.inputs.refund_rules import read_refund_status_rules
from flows.inputs.scenarios import read_scenarios
from flows.warehouse.journal import RunRecord
from flows.warehouse.publish import publish_month
from tests.scenarios.test_shipped_scenarios import staged_lines
from transforms.fct_duty_by_hs_month import build_fct_duty_by_hs_month
from transforms.fct_duty_lines import build_fct_duty_lines
from transforms.fct_ieepa_refunds import build_fct_ieepa_refunds
from transforms.fct_ieepa_refunds_by_importer_month import build_fct_ieepa_refunds_by_importer_month
from transforms.fct_reconciliation import build_fct_reconciliation
from transforms.fct_scenario_duty_by_hs_month import build_fct_scenario_duty_by_hs_month

MONTH_LINES = {
    # (entry_number, hts_code, entry_date, value)
    "2025-09": [("ABC00000001", "8703230190", "2025-09-10", "30000.00"),
                ("ABC00000002", "8708305090", "2025-09-10", "10000.00"),
                ("ABC00000003", "8711406000", "2025-09-10", "10000.00")],
    "2025-10": [("ABC00000004", "8703230190", "2025-10-15", "30000.00"),
                ("ABC00000005", "8708305090", "2025-10-15", "10000.00"),
                ("ABC00000006", "8711406000", "2025-10-15", "10000.00")],
}
# The October car declares 8,250.00: 2.5% MFN + 25% under 9903.94.01, superseded on 2025-09-16
# by the deal's 15% total (9903.94.41, computed 4,500.00).
DECLARED = {"ABC00000004": "8250.00"}
REFUNDS_AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory, schedule) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("report")
    db, exports = root / "wh.duckdb", root / "exports"
    scenarios = read_scenarios(["no_japan_deal", "pre_2025"], schedule)
    for month, rows in MONTH_LINES.items():
        stg = staged_lines(rows).with_columns(
            declared_duty_usd=pl.col("entry_number").replace_strict(DECLARED, default=None)
            .cast(pl.Decimal(18, 2))
        )
        lines = build_fct_duty_lines(stg, schedule)
        refunds = build_fct_ieepa_refunds(lines, schedule, read_refund_status_rules(), REFUNDS_AS_OF)
        run_id = f"test-{month}"
        rejects = pl.DataFrame(
            {"source": ["customs.csv"], "row_number": [7], "column": ["hts_code"], "check": ["hts_10_digits"],
             "value": ["8703"], "run_id": [run_id]},
            schema_overrides={"row_number": pl.Int64},
        )
        publish_month(
            db_path=db, exports_dir=exports, month=month,
            tables={
                "fct_duty_lines": lines,
                "fct_duty_by_hs_month": build_fct_duty_by_hs_month(lines),
                "fct_scenario_duty_by_hs_month": build_fct_scenario_duty_by_hs_month(lines, stg, scenarios),
                "fct_reconciliation": build_fct_reconciliation(lines, schedule),
                "fct_ieepa_refunds": refunds,
                "fct_ieepa_refunds_by_importer_month": build_fct_ieepa_refunds_by_importer_month(refunds),
                "rejects": rejects,
            },
            exports={},
            run=RunRecord(run_id=run_id, month=month, started_at=dt.datetime(2026, 11, 1, 6, 0),
                          finished_at=dt.datetime(2026, 11, 1, 6, 1), status="success", rows_in=4, rows_rejected=1,
                          rows_published=3, schedule_version=schedule.version, schedule_source=schedule.source,
                          scenarios=["no_japan_deal", "pre_2025"], warnings=["unconfirmed: s301_jp_2026"]),
        )
    return db, exports
