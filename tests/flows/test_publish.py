"""Publishing golden tests on hand-made frames: a month is replaced and no other, reruns are
idempotent, exports hold one file per month with a stable schema, failures leave every byte
as it was, the journal folds into `runs`, and leftovers of killed runs are cleaned."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from flows.warehouse.journal import append_journal, journal_path, read_journal
from flows.warehouse.publish import (
    STORAGE_VERSION,
    PublishError,
    clean_leftovers,
    publish_month,
    staging_db_path,
)
from tests.flows.frames import by_hs_month, rejects, run_record

TABLE = "fct_duty_by_hs_month"
EXPORTS = {TABLE: "duty_by_hs_month"}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): digest(p) for p in sorted(root.rglob("*")) if p.is_file()}


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def publish(tmp_path: Path, month: str, frame: pl.DataFrame, run_id: str, **extra_tables):
    return publish_month(
        db_path=tmp_path / "w.duckdb",
        exports_dir=tmp_path / "exports",
        month=month,
        tables={TABLE: frame, **extra_tables},
        exports=EXPORTS,
        run=run_record(run_id, month),
    )


JAN = by_hs_month("2025-01", [("8703230190", 2, "60000.00", "1500.00"), ("8708999999", 1, "1000.00", "25.00")])
FEB = by_hs_month("2025-02", [("8703230190", 1, "30000.00", "750.00")])
JAN_AGAIN = by_hs_month("2025-01", [("8703230190", 1, "40000.00", "1000.00")])


def test_a_month_is_replaced_and_other_months_untouched(tmp_path):
    publish(tmp_path, "2025-01", JAN, "r1")
    publish(tmp_path, "2025-02", FEB, "r2")
    feb_export = tmp_path / "exports/duty_by_hs_month/year=2025/month=2/part-0.parquet"
    feb_before = digest(feb_export)

    result = publish(tmp_path, "2025-01", JAN_AGAIN, "r3")

    db = tmp_path / "w.duckdb"
    assert rows(db, f"SELECT month, hts_code, line_count, customs_value_usd FROM {TABLE} ORDER BY ALL") == [
        ("2025-01", "8703230190", 1, Decimal("40000.00")),  # January: only the new row
        ("2025-02", "8703230190", 1, Decimal("30000.00")),  # February as it was
    ]
    assert rows(db, "SELECT run_id, month, status FROM runs ORDER BY run_id") == [
        ("r1", "2025-01", "success"), ("r2", "2025-02", "success"), ("r3", "2025-01", "success"),
    ]
    assert digest(feb_export) == feb_before
    jan = pl.read_parquet(tmp_path / "exports/duty_by_hs_month/year=2025/month=1/part-0.parquet")
    assert jan["customs_value_usd"].to_list() == [Decimal("40000.00")]
    assert result.rows == {TABLE: 1}
    # nothing but the warehouse, its lock-free siblings and the export tree is left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "w.duckdb"]
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["duty_by_hs_month"]


def test_rerun_is_idempotent_one_copy_of_exports(tmp_path):
    publish(tmp_path, "2025-01", JAN, "r1")
    db = tmp_path / "w.duckdb"
    first = rows(db, f"SELECT * FROM {TABLE} ORDER BY ALL")
    first_export = pl.read_parquet(tmp_path / "exports/duty_by_hs_month/**/*.parquet", hive_partitioning=False)

    publish(tmp_path, "2025-01", JAN, "r2")

    assert rows(db, f"SELECT * FROM {TABLE} ORDER BY ALL") == first
    files = sorted((tmp_path / "exports").rglob("*.parquet"))
    assert [str(f.relative_to(tmp_path)) for f in files] == [
        "exports/duty_by_hs_month/year=2025/month=1/part-0.parquet"
    ]
    assert pl.read_parquet(files[0]).equals(first_export)
    assert rows(db, "SELECT count(*) FROM runs") == [(2,)]


def test_exports_schema_is_the_table_plus_partition_columns(tmp_path):
    publish(tmp_path, "2025-01", JAN, "r1")
    publish(tmp_path, "2025-02", FEB, "r2")
    root = tmp_path / "exports/duty_by_hs_month"
    schemas = {str(p.relative_to(root)): pq.read_schema(p) for p in sorted(root.rglob("*.parquet"))}
    jan, feb = schemas.values()
    assert jan.equals(feb)  # one stable schema across months
    ddl_columns = [r[0] for r in rows(tmp_path / "w.duckdb", f"DESCRIBE {TABLE}")]
    assert jan.names == [*ddl_columns, "year"]
    assert str(jan.field("customs_value_usd").type) == "decimal128(18, 2)"
    # partition values inside the files agree with the folder names, so hive-aware and
    # plain readers see the same data
    plain = pl.read_parquet(root / "**/*.parquet", hive_partitioning=False)
    hive = duckdb.sql(
        f"SELECT year, month, count(*) FROM read_parquet('{root}/**/*.parquet', hive_partitioning=true) "
        "GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert hive == [(2025, 1, 2), (2025, 2, 1)]
    assert sorted(set(zip(plain["year"], plain["month"], strict=True))) == [(2025, 1), (2025, 2)]


def test_new_warehouse_uses_the_duckdb_1x_storage_format(tmp_path):
    publish(tmp_path, "2025-01", JAN, "r1")
    con = duckdb.connect()
    con.execute("ATTACH ? AS w (READ_ONLY)", [str(tmp_path / "w.duckdb")])
    tags = con.sql("SELECT tags FROM duckdb_databases() WHERE database_name = 'w'").fetchall()[0][0]
    assert STORAGE_VERSION == "v1.0.0"
    assert tags["storage_version"] == "v1.0.0+"


def test_failed_publish_changes_no_byte_and_leaves_nothing(tmp_path):
    publish(tmp_path, "2025-01", JAN, "r1")
    before_db = digest(tmp_path / "w.duckdb")
    before_exports = tree_digest(tmp_path / "exports")
    broken = JAN_AGAIN.with_columns(not_in_ddl=pl.lit("x"))

    with pytest.raises(PublishError, match="not_in_ddl"):
        publish(tmp_path, "2025-01", broken, "r2")

    assert digest(tmp_path / "w.duckdb") == before_db
    assert tree_digest(tmp_path / "exports") == before_exports
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "w.duckdb"]


def test_rejects_of_a_month_are_replaced_through_its_runs(tmp_path):
    publish(tmp_path, "2025-01", JAN, "r1", rejects=rejects("r1", [(4, "hts_code", "hts_10_digits", "87O3")]))
    publish(tmp_path, "2025-02", FEB, "r2", rejects=rejects("r2", [(9, "quantity", "not_empty", None)]))
    publish(tmp_path, "2025-01", JAN, "r3", rejects=rejects("r3", [(5, "country_of_origin", "iso3166_alpha2", "XZ")]))

    assert rows(tmp_path / "w.duckdb", 'SELECT run_id, row_number, "check" FROM rejects ORDER BY run_id') == [
        ("r2", 9, "not_empty"),  # February's rejects kept
        ("r3", 5, "iso3166_alpha2"),  # January's old rejects (run r1) replaced
    ]


def test_journal_of_failed_and_killed_attempts_folds_into_runs(tmp_path):
    db = tmp_path / "w.duckdb"
    publish(tmp_path, "2025-01", JAN, "r1")
    before = digest(db)
    append_journal(db, run_record("r2", "2025-02", status="running"))
    append_journal(db, run_record("r2", "2025-02", status="failed").replace(error_message="boom"))
    append_journal(db, run_record("r3", "2025-02", status="running"))  # killed: never finished
    with journal_path(db).open("a") as torn:
        torn.write('{"run_id": "r4", "mon')  # a writer killed mid-line
    assert digest(db) == before  # journaling never touches the warehouse
    assert {(r.run_id, r.status) for r in read_journal(db)} == {("r2", "failed"), ("r3", "abandoned")}

    result = publish(tmp_path, "2025-02", FEB, "r5")

    assert result.runs_folded == 2
    assert rows(db, "SELECT run_id, status, error_message FROM runs ORDER BY run_id") == [
        ("r1", "success", None),
        ("r2", "failed", "boom"),
        ("r3", "abandoned", "the run was killed"),
        ("r5", "success", None),
    ]
    assert not journal_path(db).exists()


def test_clean_leftovers_removes_dead_staging_and_rolls_forward_committed_exports(tmp_path):
    db = tmp_path / "w.duckdb"
    exports = tmp_path / "exports"
    publish(tmp_path, "2025-01", JAN, "r1")
    # a run killed before its swap: staging warehouse and staged exports, run not in `runs`
    staging_db_path(db, "dead").write_bytes(b"partial")
    dead = exports / ".staging-dead/duty_by_hs_month/year=2025/month=1"
    dead.mkdir(parents=True)
    (dead / "part-0.parquet").write_bytes(b"partial")
    # a run killed after its warehouse swap (r1 is in `runs`) but before its exports swap:
    # its staged folder must win over the live one
    committed = exports / ".staging-r1/duty_by_hs_month/year=2025/month=1"
    committed.mkdir(parents=True)
    JAN_AGAIN.write_parquet(committed / "part-0.parquet")
    (exports / ".trash-old/duty_by_hs_month").mkdir(parents=True)

    done = clean_leftovers(db, exports)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "w.duckdb"]
    assert sorted(p.name for p in exports.iterdir()) == ["duty_by_hs_month"]
    live = pl.read_parquet(exports / "duty_by_hs_month/year=2025/month=1/part-0.parquet")
    assert live["customs_value_usd"].to_list() == [Decimal("40000.00")]
    assert "rolled forward exports of run r1" in done
    assert "removed staged exports of run dead" in done
