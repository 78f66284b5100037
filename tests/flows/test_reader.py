"""flows/warehouse/reader.py: `connect()` sees the current warehouse file across a publish
even while another connection to the same file is open in this process (DuckDB's
per-process instance cache would hand back the old database to a plain `duckdb.connect`)."""

from __future__ import annotations

import duckdb
import pytest

from flows.warehouse.publish import publish_month
from flows.warehouse.reader import CATALOG, WarehouseMissing, WarehouseUnreadable, connect
from tests.flows.frames import by_hs_month, run_record

TABLE = "fct_duty_by_hs_month"
COUNT = f"SELECT month, count(*) FROM {TABLE} GROUP BY month ORDER BY month"
JAN = by_hs_month("2025-01", [("8703230190", 1, "30000.00", "750.00")])
FEB = by_hs_month("2025-02", [("8703230190", 1, "30000.00", "750.00"), ("8708999999", 1, "10.00", "0.25")])


def publish(tmp_path, month, frame, run_id):
    publish_month(db_path=tmp_path / "w.duckdb", exports_dir=tmp_path / "exports", month=month,
                  tables={TABLE: frame}, exports={}, run=run_record(run_id, month))


def test_connect_sees_a_publish_while_another_connection_to_the_file_is_open(tmp_path):
    db = tmp_path / "w.duckdb"
    publish(tmp_path, "2025-01", JAN, "r1")
    held = duckdb.connect(str(db), read_only=True)  # a notebook's long-lived connection
    mine = connect(db)
    try:
        assert held.sql(COUNT).fetchall() == [("2025-01", 1)]
        assert mine.sql(COUNT).fetchall() == [("2025-01", 1)]

        publish(tmp_path, "2025-02", FEB, "r2")

        # the pitfall the helper exists for: a new plain connection while `held` is open
        # is DuckDB's cached instance of the old file
        stale = duckdb.connect(str(db), read_only=True)
        assert stale.sql(COUNT).fetchall() == [("2025-01", 1)]
        stale.close()
        # an open connection keeps its snapshot, the helper's included
        assert mine.sql(COUNT).fetchall() == [("2025-01", 1)]
        fresh = connect(db)
        assert fresh.sql(COUNT).fetchall() == [("2025-01", 1), ("2025-02", 2)]
        fresh.close()
    finally:
        mine.close()
        held.close()


def test_connect_is_read_only_and_uses_the_configured_warehouse_by_default(tmp_path, monkeypatch):
    publish(tmp_path, "2025-01", JAN, "r1")
    monkeypatch.setenv("TARIFFCOST_DB", str(tmp_path / "w.duckdb"))
    with connect() as con:
        assert con.sql("SELECT current_database()").fetchall() == [(CATALOG,)]
        assert con.sql(f"SELECT count(*) FROM {TABLE}").fetchall() == [(1,)]
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("DELETE FROM runs")  # (the marts are views over the segment store)


def test_connect_names_a_missing_warehouse(tmp_path):
    with pytest.raises(WarehouseMissing, match=r"no warehouse at .*nowhere\.duckdb"):
        connect(tmp_path / "nowhere.duckdb")


def test_connect_names_a_file_that_is_not_a_warehouse(tmp_path):
    bad = tmp_path / "w.duckdb"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(WarehouseUnreadable, match=rf"the warehouse {bad} cannot be opened: .*not a valid DuckDB database"):
        connect(bad)
