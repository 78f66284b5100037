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
            "SELECT * REPLACE (CAST(1 AS INTEGER) AS month), CAST(2025 AS INTEGER) AS year, '2025-01' AS period "
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


def test_a_segment_out_of_line_order_is_written_in_duckdbs_order_by_all(tmp_path):
    """A table without the line grain (rows in any order, ties on leading columns, nulls, text
    of mixed case and length) is written by Polars in exactly DuckDB's ORDER BY ALL order."""
    import random

    rng = random.Random(7)
    codes = ["8703230190", "870323019", "a703230190", "A703230190", "é"]
    n = 400
    varied, zero = ("customs_value_usd", "mfn_duty_usd"), (
        "section_232_duty_usd", "ieepa_duty_usd", "other_duty_usd", "total_duty_usd", "mpf_usd", "hmf_usd")
    frame = pl.DataFrame(
        {
            "month": ["2025-01"] * n,
            "hts_code": [rng.choice(codes) for _ in range(n)],
            "country_of_origin": [rng.choice(["JP", "jp", "DE"]) for _ in range(n)],
            "line_count": [rng.choice([1, -3]) for _ in range(n)],
            # (few distinct values: many rows tie up to the last column, where the nulls are)
            **{c: [Decimal(rng.randint(-1, 0)) / 4 for _ in range(n)] for c in varied},
            **{c: [Decimal(0)] * n for c in zero},
            "effective_duty_rate": [None if rng.random() < 0.3 else Decimal(rng.randint(0, 3)) / 100 for _ in range(n)],
        },
        schema_overrides={**{c: pl.Decimal(18, 2) for c in (*varied, *zero)}, "effective_duty_rate": pl.Decimal(18, 6)},
    )
    written, expected = _published_by_hs_month(tmp_path, frame)
    assert written.height == n
    assert written.equals(expected)
    assert written.get_column("effective_duty_rate").null_count() > 0


def _published_by_hs_month(tmp_path, frame: pl.DataFrame, run_id: str = "r1") -> tuple[pl.DataFrame, pl.DataFrame]:
    """`frame` published as fct_duty_by_hs_month's 2025-01: (its export as written, the same
    file's rows in DuckDB's ORDER BY ALL)."""
    record = RunRecord(run_id=run_id, month="2025-01", started_at=dt.datetime(2025, 2, 1), status="success")
    publish_month(
        db_path=tmp_path / "w.duckdb", exports_dir=tmp_path / "exports", month="2025-01",
        tables={"fct_duty_by_hs_month": frame}, exports={"fct_duty_by_hs_month": "duty_by_hs_month"}, run=record,
    )
    path = tmp_path / "exports/duty_by_hs_month/year=2025/month=1/part-0.parquet"
    with duckdb.connect() as con:
        expected = con.sql(f"SELECT * FROM read_parquet('{path}') ORDER BY ALL").pl()
    return pl.read_parquet(path), expected


def test_a_segment_already_in_order_by_all_is_written_without_sorting(tmp_path, monkeypatch):
    """Rows strictly in order on their leading columns (a mart built in its table's order,
    e.g. fct_declared_duty_by_heading: line, then heading in byte order) are written as they
    are: no sort, and the file is still exactly DuckDB's ORDER BY ALL."""
    n = 300
    frame = pl.DataFrame(
        {
            "month": ["2025-01"] * n,
            "hts_code": [f"87032{i // 10:05d}" for i in range(n)],
            # ("MFN" after the digits, as byte order has it; the later columns never decide)
            "country_of_origin": [["9903.94.01", "9903.94.41", "MFN"][i % 3] + f"{i % 10}" for i in range(n)],
            "line_count": [-i for i in range(n)],
        }
    ).sort("hts_code", "country_of_origin")
    assert frame.select(pl.struct(pl.all()).is_unique().all()).item()

    def no_sort(*args, **kwargs):
        raise AssertionError("a segment already in order was sorted")

    monkeypatch.setattr(pl.DataFrame, "sort", no_sort)
    written, expected = _published_by_hs_month(tmp_path, frame)
    monkeypatch.undo()
    assert written.height == n
    assert written.equals(expected)
    # the same rows out of order are sorted into the same file
    again, _ = _published_by_hs_month(tmp_path, frame.sample(fraction=1.0, shuffle=True, seed=3), "r2")
    assert again.drop("run_id").equals(written.drop("run_id"))
