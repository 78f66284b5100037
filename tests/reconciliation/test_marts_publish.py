"""The reconciliation and refund marts publish through flows/warehouse/publish.py: their DDL (sql/) has
exactly the columns of their schema (schemas/), in order, and re-publishing a month replaces
that month's rows and export folder only (idempotent per month)."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from flows.inputs.refund_rules import read_refund_status_rules
from flows.warehouse.publish import publish_month
from schemas.fct_ieepa_refunds import SCHEMA as IEEPA_REFUNDS
from schemas.fct_ieepa_refunds_by_importer_month import SCHEMA as IEEPA_REFUNDS_BY_IMPORTER_MONTH
from schemas.fct_reconciliation import SCHEMA as RECONCILIATION
from schemas.fct_reconciliation_by_importer_month import SCHEMA as RECONCILIATION_BY_IMPORTER_MONTH
from tests.flows.frames import run_record
from tests.reconciliation.recon_schedule import MOTORCYCLE, SCHEDULE, priced
from transforms.fct_ieepa_refunds import build_fct_ieepa_refunds
from transforms.fct_ieepa_refunds_by_importer_month import build_fct_ieepa_refunds_by_importer_month
from transforms.fct_reconciliation import build_fct_reconciliation
from transforms.fct_reconciliation_by_importer_month import build_fct_reconciliation_by_importer_month

SCHEMAS = {
    "fct_reconciliation": RECONCILIATION,
    "fct_reconciliation_by_importer_month": RECONCILIATION_BY_IMPORTER_MONTH,
    "fct_ieepa_refunds": IEEPA_REFUNDS,
    "fct_ieepa_refunds_by_importer_month": IEEPA_REFUNDS_BY_IMPORTER_MONTH,
}
EXPORTS = {
    "fct_reconciliation": "reconciliation",
    "fct_reconciliation_by_importer_month": "reconciliation_by_importer_month",
    "fct_ieepa_refunds": "ieepa_refunds",
    "fct_ieepa_refunds_by_importer_month": "ieepa_refunds_by_importer_month",
}
AS_OF = dt.date(2026, 11, 27)


def marts(*rows: tuple) -> dict[str, pl.DataFrame]:
    lines = priced(*rows)
    reconciliation = build_fct_reconciliation(lines, SCHEDULE)
    refunds = build_fct_ieepa_refunds(lines, SCHEDULE, read_refund_status_rules(), AS_OF)
    return {
        "fct_reconciliation": reconciliation,
        "fct_reconciliation_by_importer_month": build_fct_reconciliation_by_importer_month(reconciliation),
        "fct_ieepa_refunds": refunds,
        "fct_ieepa_refunds_by_importer_month": build_fct_ieepa_refunds_by_importer_month(refunds),
    }


def publish(tmp_path, month: str, tables: dict[str, pl.DataFrame], run_id: str) -> None:
    for table, frame in tables.items():
        SCHEMAS[table].validate(frame)
    publish_month(db_path=tmp_path / "w.duckdb", exports_dir=tmp_path / "exports", month=month,
                  tables=tables, exports=EXPORTS, run=run_record(run_id, month))


def query(tmp_path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


# motorcycle 2.4%: 2025-06-01 +10% of 10,000.00 = 1,000.00 IEEPA; 2025-09-01 15% total: 1,260.00
JUNE = marts(("JPN00000011", 1, "2025-06-01", MOTORCYCLE, "10000.00", "1240.00", "IMP1"))
SEPTEMBER = marts(("JPN00000029", 1, "2025-09-01", MOTORCYCLE, "10000.00", "1740.00", "IMP1"))
SEPTEMBER_AGAIN = marts(
    ("JPN00000029", 1, "2025-09-01", MOTORCYCLE, "10000.00", "1500.00", "IMP1"),
    ("JPN00000037", 1, "2025-09-02", MOTORCYCLE, "20000.00", "3000.00", "IMP2"),
)


@pytest.fixture(scope="module")
def june_warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("june")
    publish(root, "2025-06", JUNE, "r1")
    return root


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_ddl_columns_are_the_schema_columns_in_order(june_warehouse, table):
    columns = [
        r[0]
        for r in query(june_warehouse, "SELECT column_name FROM information_schema.columns "
                       f"WHERE table_name = '{table}' ORDER BY ordinal_position")
    ]
    assert columns == list(SCHEMAS[table].columns)


def test_republishing_a_month_replaces_it_and_no_other(tmp_path):
    publish(tmp_path, "2025-06", JUNE, "r1")
    publish(tmp_path, "2025-09", SEPTEMBER, "r2")
    june_export = tmp_path / "exports/ieepa_refunds/year=2025/month=6/part-0.parquet"
    june_bytes = june_export.read_bytes()
    publish(tmp_path, "2025-09", SEPTEMBER_AGAIN, "r3")
    publish(tmp_path, "2025-09", SEPTEMBER_AGAIN, "r4")  # same month again: same rows

    assert query(tmp_path, "SELECT month, entry_number, status FROM fct_reconciliation ORDER BY ALL") == [
        ("2025-06", "JPN00000011", "match"),
        ("2025-09", "JPN00000029", "match"),
        ("2025-09", "JPN00000037", "match"),
    ]
    # 1,260.00 + 20,000 x 15% - 480.00 MFN = 2,520.00 -> 3,780.00 for September, once
    assert query(tmp_path, "SELECT month, sum(ieepa_duty_usd)::VARCHAR, count(*) FROM fct_ieepa_refunds GROUP BY month ORDER BY month") == [
        ("2025-06", "1000.00", 1),
        ("2025-09", "3780.00", 2),
    ]
    assert query(tmp_path, "SELECT month, importer_id, line_count FROM fct_ieepa_refunds_by_importer_month ORDER BY ALL") == [
        ("2025-06", "IMP1", 1), ("2025-09", "IMP1", 1), ("2025-09", "IMP2", 1),
    ]
    assert june_export.read_bytes() == june_bytes
    september = pq.read_table(tmp_path / "exports/ieepa_refunds/year=2025/month=9/part-0.parquet")
    assert september.num_rows == 2
    assert september.schema.field("ieepa_duty_usd").type.scale == 2
    assert str(september.schema.field("cape_eligible").type) == "bool"
