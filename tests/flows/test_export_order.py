"""Exports of line-grain tables inserted in line order are streamed, not re-sorted: the file
must hold exactly what ORDER BY ALL gives, and a frame out of order is still sorted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import polars as pl

from flows.warehouse.exports import in_line_order
from flows.warehouse.journal import RunRecord
from flows.warehouse.publish import publish_month


def _lines(entries: list[str], lines: list[int]) -> pl.DataFrame:
    n = len(entries)
    return pl.DataFrame(
        {
            "entry_number": entries,
            "line_number": lines,
            "entry_date": [dt.date(2025, 1, 15)] * n,
            "month": ["2025-01"] * n,
            "importer_id": [f"IMP{i % 3}" for i in range(n)],
            "hts_code": ["8703230190"] * n,
            "country_of_origin": ["JP"] * n,
            "customs_value_usd": [Decimal(100 + i) for i in range(n)],
            "declared_duty_usd": [Decimal(1)] * n,
            "total_duty_usd": [Decimal(1)] * n,
            "difference_usd": [Decimal(0)] * n,
            "status": ["match"] * n,
            "likely_cause": [None] * n,
            "ch99_headings": [""] * n,
        },
        schema_overrides={c: pl.Decimal(18, 2) for c in ("customs_value_usd", "declared_duty_usd", "total_duty_usd", "difference_usd")},
    )


GRAIN = ["entry_number", "line_number", "entry_date"]


def test_in_line_order_needs_the_grain_first_and_strictly_increasing_rows():
    ordered = _lines(["A1", "A1", "A2", "B"], [1, 2, 1, 1])
    assert in_line_order(ordered, GRAIN)
    assert not in_line_order(ordered, ["month", *GRAIN])  # grain not leading: ORDER BY ALL differs
    assert not in_line_order(_lines(["A1", "A1"], [2, 1]), GRAIN)  # line order broken
    assert not in_line_order(_lines(["A2", "A1"], [1, 1]), GRAIN)  # entry order broken
    assert not in_line_order(_lines(["A1", "A1"], [1, 1]), GRAIN)  # a duplicate: later columns decide
    # byte order, as DuckDB compares text: upper case before lower case, "A10" before "A9"
    assert in_line_order(_lines(["A10", "A9", "a1"], [1, 1, 1]), GRAIN)


def _export(tmp_path, frame: pl.DataFrame) -> pl.DataFrame:
    record = RunRecord(run_id="r1", month="2025-01", started_at=dt.datetime(2025, 2, 1), status="success")
    publish_month(
        db_path=tmp_path / "w.duckdb", exports_dir=tmp_path / "exports", month="2025-01",
        tables={"fct_reconciliation": frame}, exports={"fct_reconciliation": "reconciliation"}, run=record,
    )
    return pl.read_parquet(tmp_path / "exports/reconciliation/year=2025/month=1/part-0.parquet")


def test_export_in_line_order_equals_order_by_all(tmp_path):
    entries = sorted(f"E{i:05d}" for i in range(3000))
    frame = _lines([e for e in entries for _ in range(3)], [n for _ in entries for n in (1, 2, 3)])
    exported = _export(tmp_path, frame)
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        expected = con.sql(
            "SELECT * REPLACE (CAST(1 AS INTEGER) AS month), CAST(2025 AS INTEGER) AS year "
            "FROM fct_reconciliation WHERE month = '2025-01' ORDER BY ALL"
        ).pl()
    finally:
        con.close()
    assert exported.height == 9000
    assert exported.equals(expected)


def test_export_of_rows_out_of_order_is_sorted(tmp_path):
    frame = _lines(["B", "A", "A"], [1, 2, 1])
    exported = _export(tmp_path, frame)
    assert exported.select("entry_number", "line_number").rows() == [("A", 1), ("A", 2), ("B", 1)]
