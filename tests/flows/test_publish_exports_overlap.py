"""A month's tables are written one segment at a time, each linked into the staged exports: an
export that fails, or a table that fails after others were written and exported, still
leaves every live byte as it was (warehouse, segment store, exports); several months and a
frame of many chunks publish the rows they were given."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import polars as pl
import pytest

import flows.warehouse.publish as publishing
from flows.warehouse.publish import PublishError, publish_month, publish_months
from tests.flows.frames import by_hs_month, run_record

BY_HS = "fct_duty_by_hs_month"
SCENARIO = "fct_scenario_duty_by_hs_month"
EXPORTS = {BY_HS: "duty_by_hs_month", SCENARIO: "scenario_duty_by_hs_month"}

JAN = by_hs_month("2025-01", [("8703230190", 2, "60000.00", "1500.00"), ("8708999999", 1, "1000.00", "25.00")])
JAN_AGAIN = by_hs_month("2025-01", [("8703230190", 1, "40000.00", "1000.00")])
FEB = by_hs_month("2025-02", [("8703230190", 1, "30000.00", "750.00")])


def scenario(frame: pl.DataFrame) -> pl.DataFrame:
    """The scenario mart of a by-hs frame: its rows as enacted (no delta)."""
    return frame.select(
        *[c for c in frame.columns if c not in {"mpf_usd", "hmf_usd", "total_cost_usd"}],
        pl.lit("as_enacted").alias("scenario"),
        delta_vs_enacted_usd=pl.col("total_duty_usd") * 0,
    )


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def publish(tmp_path: Path, month: str, tables: dict[str, pl.DataFrame], run_id: str):
    return publish_month(
        db_path=tmp_path / "w.duckdb", exports_dir=tmp_path / "exports", month=month,
        tables=tables, exports=EXPORTS, run=run_record(run_id, month),
    )


def live_state(tmp_path: Path) -> tuple[str, dict[str, str], dict[str, str]]:
    return (
        hashlib.sha256((tmp_path / "w.duckdb").read_bytes()).hexdigest(),
        tree_digest(tmp_path / "w.duckdb.d"),
        tree_digest(tmp_path / "exports"),
    )


def test_an_export_that_cannot_be_written_changes_no_byte(tmp_path, monkeypatch):
    publish(tmp_path, "2025-01", {BY_HS: JAN, SCENARIO: scenario(JAN)}, "r1")
    before = live_state(tmp_path)
    real_link = publishing.link_or_copy

    def export_fails_on_scenario(source, target):
        if "scenario" in str(target):
            raise OSError("disk full")
        return real_link(source, target)

    monkeypatch.setattr(publishing, "link_or_copy", export_fails_on_scenario)
    with pytest.raises(PublishError, match="disk full"):
        publish(tmp_path, "2025-01", {BY_HS: JAN_AGAIN, SCENARIO: scenario(JAN_AGAIN)}, "r2")

    assert live_state(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "w.duckdb", "w.duckdb.d"]
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == sorted(EXPORTS.values())


def test_a_table_failing_after_another_was_written_and_exported_changes_no_byte(tmp_path):
    publish(tmp_path, "2025-01", {BY_HS: JAN}, "r1")
    before = live_state(tmp_path)
    broken = scenario(JAN_AGAIN).with_columns(not_in_ddl=pl.lit("x"))

    # BY_HS's segment is written and linked into the staged exports before the broken table
    with pytest.raises(PublishError, match="not_in_ddl"):
        publish(tmp_path, "2025-01", {BY_HS: JAN_AGAIN, SCENARIO: broken}, "r2")

    assert live_state(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "w.duckdb", "w.duckdb.d"]


def test_several_months_each_get_their_own_export_of_their_own_rows(tmp_path):
    results = publish_months(
        db_path=tmp_path / "w.duckdb", exports_dir=tmp_path / "exports",
        months={"2025-01": {BY_HS: JAN, SCENARIO: scenario(JAN)}, "2025-02": {BY_HS: lambda: FEB}},
        exports=EXPORTS, runs=[run_record("r1", "2025-01"), run_record("r2", "2025-02")],
    )

    assert [list(r.exports) for r in results] == [list(EXPORTS.values()), ["duty_by_hs_month"]]
    for month, frame, run_id in (("2025-01", JAN, "r1"), ("2025-02", FEB, "r2")):
        number = int(month[-2:])
        exported = pl.read_parquet(tmp_path / f"exports/duty_by_hs_month/year=2025/month={number}/part-0.parquet")
        assert exported["month"].to_list() == [number] * frame.height
        assert exported["year"].dtype == pl.Int32
        assert exported["period"].to_list() == [month] * frame.height
        assert exported["run_id"].to_list() == [run_id] * frame.height  # each month's own run
        assert sorted(exported.drop("month", "year", "period", "run_id").rows()) == sorted(frame.drop("month").rows())


def test_a_frame_of_many_chunks_is_published_whole_and_in_order(tmp_path):
    rows = [(f"87{i:08d}", i % 7 + 1, f"{1000 + i}.00", f"{i % 50}.25") for i in range(3000)]
    whole = by_hs_month("2025-01", rows)
    chunked = pl.concat([whole.slice(0, 1000), whole.slice(1000, 1700), whole.slice(2700)], rechunk=False)
    assert chunked.n_chunks() == 3

    publish(tmp_path, "2025-01", {BY_HS: chunked}, "r1")

    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        stored = con.sql(f"SELECT * FROM {BY_HS}").pl()
    finally:
        con.close()
    assert stored.select(whole.columns).equals(whole)
