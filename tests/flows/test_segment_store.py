"""The segment store under the warehouse: a publish writes the month it publishes and nothing
else of the warehouse; the catalog holds no mart rows; the export is the segment itself (one
copy on disk); a replaced month stays readable for the readers that still see it, until its
retirement time; a warehouse moved with its store still reads; the views name files by
absolute path, so they read from any working directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

from flows.warehouse.publish import publish_month
from flows.warehouse.reader import connect
from tests.flows.frames import by_hs_month, run_record

TABLE = "fct_duty_by_hs_month"
EXPORTS = {TABLE: "duty_by_hs_month"}
JAN = by_hs_month("2025-01", [("8703230190", 2, "60000.00", "1500.00"), ("8708999999", 1, "1000.00", "25.00")])
JAN_AGAIN = by_hs_month("2025-01", [("8703230190", 1, "40000.00", "1000.00")])
FEB = by_hs_month("2025-02", [("8703230190", 1, "30000.00", "750.00")])


def big_month(month: str, n: int) -> pl.DataFrame:
    return by_hs_month(month, [(f"87{i:08d}", 1 + i % 5, f"{1000 + i}.{i % 100:02d}", f"{i % 997}.25") for i in range(n)])


def publish(root: Path, month: str, frame: pl.DataFrame, run_id: str):
    return publish_month(db_path=root / "w.duckdb", exports_dir=root / "exports", month=month,
                         tables={TABLE: frame}, exports=EXPORTS, run=run_record(run_id, month))


def total(db: Path) -> list[tuple]:
    with connect(db) as con:
        return con.sql(f"SELECT month, count(*), sum(customs_value_usd) FROM {TABLE} GROUP BY month ORDER BY month"
                       ).fetchall()


def test_a_small_month_into_a_large_warehouse_writes_only_the_month(tmp_path):
    publish(tmp_path, "2025-01", big_month("2025-01", 200_000), "r1")
    store = tmp_path / "w.duckdb.d"
    january = store / TABLE / "2025-01" / "r1.parquet"
    before = (january.stat().st_ino, january.stat().st_mtime_ns, january.stat().st_size)

    result = publish(tmp_path, "2025-02", FEB, "r2")

    assert (january.stat().st_ino, january.stat().st_mtime_ns, january.stat().st_size) == before
    february = store / TABLE / "2025-02" / "r2.parquet"
    assert result.bytes_written == february.stat().st_size
    assert result.bytes_written < january.stat().st_size / 100
    # the catalog holds no mart rows: it stays small however large the months are
    catalog = (tmp_path / "w.duckdb").stat().st_size
    assert catalog < 2 * 1024 * 1024
    publish(tmp_path, "2025-03", big_month("2025-03", 200_000), "r3")
    assert (tmp_path / "w.duckdb").stat().st_size == catalog  # 200,000 more rows, not a byte more
    assert total(tmp_path / "w.duckdb") == [
        ("2025-01", 200_000, big_month("2025-01", 200_000)["customs_value_usd"].sum()),
        ("2025-02", 1, Decimal("30000.00")),
        ("2025-03", 200_000, big_month("2025-03", 200_000)["customs_value_usd"].sum()),
    ]


def test_the_export_is_the_segment_file_itself(tmp_path):
    publish(tmp_path, "2025-01", JAN, "r1")
    segment = tmp_path / "w.duckdb.d" / TABLE / "2025-01" / "r1.parquet"
    export = tmp_path / "exports/duty_by_hs_month/year=2025/month=1/part-0.parquet"
    assert os.path.samefile(segment, export)  # one copy of the bytes on disk
    assert segment.stat().st_nlink == 2


def test_a_replaced_month_stays_readable_until_its_retirement_time(tmp_path, monkeypatch):
    publish(tmp_path, "2025-01", JAN, "r1")
    reader = duckdb.connect(":memory:")  # an importer's session opened before the re-run
    reader.execute("ATTACH ? AS w (READ_ONLY)", [str(tmp_path / "w.duckdb")])
    old = tmp_path / "w.duckdb.d" / TABLE / "2025-01" / "r1.parquet"

    publish(tmp_path, "2025-01", JAN_AGAIN, "r2")  # default: retired files kept 24 hours
    assert reader.sql(f"SELECT sum(customs_value_usd) FROM w.{TABLE}").fetchall() == [(Decimal("61000.00"),)]
    assert old.exists()

    monkeypatch.setenv("TARIFFCOST_RETIRED_HOURS", "0")
    publish(tmp_path, "2025-02", FEB, "r3")  # the first publish after the retirement time
    assert not old.exists()
    assert total(tmp_path / "w.duckdb") == [("2025-01", 1, Decimal("40000.00")), ("2025-02", 1, Decimal("30000.00"))]
    with connect(tmp_path / "w.duckdb") as con:
        assert con.sql("SELECT count(*) FROM tariffcost.retired_segments").fetchall() == [(0,)]
    reader.close()


def test_a_warehouse_moved_with_its_store_reads_and_its_next_publish_points_there(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    publish(first, "2025-01", JAN, "r1")
    shutil.copytree(first, second)
    shutil.rmtree(first)

    assert total(second / "w.duckdb") == [("2025-01", 2, Decimal("61000.00"))]  # reader.connect

    publish(second, "2025-02", FEB, "r2")
    con = duckdb.connect(str(second / "w.duckdb"), read_only=True)  # a plain client, too
    try:
        assert con.sql(f"SELECT count(*) FROM {TABLE}").fetchall() == [(3,)]
    finally:
        con.close()


def test_the_views_read_from_any_working_directory(tmp_path):
    publish(tmp_path, "2025-01", JAN, "r1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        f"print(con.sql('SELECT count(*) FROM {TABLE}').fetchall()[0][0])"
    )
    done = subprocess.run([sys.executable, "-c", script, os.path.relpath(tmp_path / "w.duckdb", elsewhere)],
                          cwd=elsewhere, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"


def test_a_publish_retried_after_its_swap_never_writes_over_a_live_file(tmp_path):
    publish(tmp_path, "2025-01", JAN, "r1")
    first = tmp_path / "w.duckdb.d" / TABLE / "2025-01" / "r1.parquet"
    before = (first.stat().st_ino, first.stat().st_mtime_ns, first.stat().st_size)

    publish(tmp_path, "2025-01", JAN_AGAIN, "r1")  # the same run again: Prefect's retry of the publish task

    assert (first.stat().st_ino, first.stat().st_mtime_ns, first.stat().st_size) == before
    with connect(tmp_path / "w.duckdb") as con:
        assert con.sql("SELECT file FROM tariffcost.segments").fetchall() == [(f"{TABLE}/2025-01/r1~2.parquet",)]
        assert con.sql("SELECT file FROM tariffcost.retired_segments").fetchall() == [(f"{TABLE}/2025-01/r1.parquet",)]
    assert total(tmp_path / "w.duckdb") == [("2025-01", 1, Decimal("40000.00"))]


def test_a_sort_larger_than_the_publish_memory_spills_beside_the_warehouse_and_is_cleaned(tmp_path, monkeypatch):
    import flows.warehouse.publish as publishing

    monkeypatch.setattr(publishing, "STAGING_SETTINGS", ("SET memory_limit = '40MB'", "SET threads = 1"))
    month = big_month("2025-01", 300_000).sample(fraction=1.0, shuffle=True, seed=7)  # not in ORDER BY ALL order
    publish(tmp_path, "2025-01", month, "r1")

    export = pl.read_parquet(tmp_path / "exports/duty_by_hs_month/year=2025/month=1/part-0.parquet")
    assert export.height == 300_000
    assert export.get_column("hts_code").is_sorted()  # the month written in ORDER BY ALL order
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "w.duckdb", "w.duckdb.d"]  # no spill left
