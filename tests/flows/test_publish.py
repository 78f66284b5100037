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

from flows.warehouse.journal import append_journal, journal_path, quarantine_journal, read_journal, runs_frame
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
    # nothing but the warehouse, its segment store and the export tree is left behind; the
    # replaced January segment is retired, kept for readers that still see it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "w.duckdb", "w.duckdb.d"]
    assert sorted(str(p.relative_to(tmp_path / "w.duckdb.d")) for p in (tmp_path / "w.duckdb.d").rglob("*.parquet")) == [
        f"{TABLE}/2025-01/r1.parquet", f"{TABLE}/2025-01/r3.parquet", f"{TABLE}/2025-02/r2.parquet",
    ]
    assert rows(db, "SELECT table_name, period, written_by FROM tariffcost.retired_segments") == [(TABLE, "2025-01", "r1")]
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["duty_by_hs_month"]


def test_rerun_is_idempotent_one_copy_of_exports(tmp_path):
    publish(tmp_path, "2025-01", JAN, "r1")
    db = tmp_path / "w.duckdb"
    first = rows(db, f"SELECT * EXCLUDE (run_id) FROM {TABLE} ORDER BY ALL")
    first_export = pl.read_parquet(tmp_path / "exports/duty_by_hs_month/**/*.parquet", hive_partitioning=False)
    assert first_export["run_id"].unique().to_list() == ["r1"]

    publish(tmp_path, "2025-01", JAN, "r2")

    # the same rows, now tied to the run that wrote them
    assert rows(db, f"SELECT * EXCLUDE (run_id) FROM {TABLE} ORDER BY ALL") == first
    assert rows(db, f"SELECT DISTINCT run_id FROM {TABLE}") == [("r2",)]
    files = sorted((tmp_path / "exports").rglob("*.parquet"))
    assert [str(f.relative_to(tmp_path)) for f in files] == [
        "exports/duty_by_hs_month/year=2025/month=1/part-0.parquet"
    ]
    again = pl.read_parquet(files[0])
    assert again.drop("run_id").equals(first_export.drop("run_id"))
    assert again["run_id"].unique().to_list() == ["r2"]
    assert rows(db, "SELECT count(*) FROM runs") == [(2,)]


def test_exports_schema_is_the_table_plus_partition_columns(tmp_path):
    publish(tmp_path, "2025-01", JAN, "r1")
    publish(tmp_path, "2025-02", FEB, "r2")
    root = tmp_path / "exports/duty_by_hs_month"
    schemas = {str(p.relative_to(root)): pq.read_schema(p) for p in sorted(root.rglob("*.parquet"))}
    jan, feb = schemas.values()
    assert jan.equals(feb)  # one stable schema across months
    ddl_columns = [r[0] for r in rows(tmp_path / "w.duckdb", f"DESCRIBE {TABLE}")]
    assert jan.names == [*ddl_columns, "year", "period"]
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
    # `period` is the warehouse's `month` (YYYY-MM): an export joins a warehouse table directly
    assert sorted(set(plain["period"])) == ["2025-01", "2025-02"]
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        joined = con.sql(
            f"SELECT e.period, count(*) FROM read_parquet('{root}/**/*.parquet', hive_partitioning=true) e "
            f"JOIN {TABLE} t ON t.month = e.period AND t.hts_code = e.hts_code "
            "AND t.country_of_origin = e.country_of_origin GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    assert joined == [("2025-01", 2), ("2025-02", 1)]


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
    before_store = tree_digest(tmp_path / "w.duckdb.d")
    broken = JAN_AGAIN.with_columns(not_in_ddl=pl.lit("x"))

    with pytest.raises(PublishError, match="not_in_ddl"):
        publish(tmp_path, "2025-01", broken, "r2")

    assert digest(tmp_path / "w.duckdb") == before_db
    assert tree_digest(tmp_path / "exports") == before_exports
    assert tree_digest(tmp_path / "w.duckdb.d") == before_store  # the failed run's segment is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "w.duckdb", "w.duckdb.d"]


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

    # and a segment file written by a publish killed before its swap: no catalog lists it
    orphan = tmp_path / "w.duckdb.d" / TABLE / "2025-01" / "dead.parquet"
    orphan.write_bytes(b"partial")
    listed = tree_digest(tmp_path / "w.duckdb.d")
    del listed[str(orphan.relative_to(tmp_path / "w.duckdb.d"))]

    done = clean_leftovers(db, exports)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "w.duckdb", "w.duckdb.d"]
    assert tree_digest(tmp_path / "w.duckdb.d") == listed  # the listed segments untouched
    assert "removed 1 segment file no catalog lists" in done
    assert sorted(p.name for p in exports.iterdir()) == ["duty_by_hs_month"]
    live = pl.read_parquet(exports / "duty_by_hs_month/year=2025/month=1/part-0.parquet")
    assert live["customs_value_usd"].to_list() == [Decimal("40000.00")]
    assert "rolled forward exports of run r1" in done
    assert "removed staged exports of run dead" in done


def test_a_warehouse_from_before_run_ids_gains_the_column(tmp_path):
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.register("jan", JAN.to_arrow())
    # the table as published before marts carried their run: its columns without run_id
    con.execute(f"CREATE TABLE {TABLE} AS SELECT * FROM jan")
    con.close()

    publish(tmp_path, "2025-02", FEB, "r2")

    assert rows(db, f"SELECT month, run_id FROM {TABLE} ORDER BY month, hts_code") == [
        ("2025-01", None), ("2025-01", None), ("2025-02", "r2"),
    ]


def test_a_corrupt_warehouse_is_named_by_its_live_path_and_left_as_it_is(tmp_path):
    db = tmp_path / "w.duckdb"
    db.write_bytes(b"this is not a DuckDB file" * 1000)
    before = digest(db)
    with pytest.raises(PublishError) as raised:
        publish(tmp_path, "2025-01", JAN, "r1")
    assert str(raised.value).startswith(f"the warehouse {db} cannot be opened (it is unchanged): ")
    assert ".staging-" not in str(raised.value)
    assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]


def test_journal_lines_that_cannot_be_read_are_moved_aside_and_never_block_a_publish(tmp_path):
    db = tmp_path / "w.duckdb"
    good = run_record("x-2025-09", "2025-09", status="failed")
    append_journal(db, good)
    journal = journal_path(db)
    good_line = journal.read_bytes()
    bad = [
        good_line.strip().replace(b'"rows_in": 3', b'"rows_in": "abc"'),  # wrong type
        b'{"run_id": "z", "month": "2025-09", "note": "\xff\xfe"}',  # not UTF-8
        good_line.strip().replace(b'"month": "2025-09"', b'"month": "2025-13"').replace(b"x-2025-09", b"w-2025-13"),
        b'{"run_id": "torn-2025-0',  # a writer killed mid-line
    ]
    assert bad[0] != good_line.strip() and bad[2] != good_line.strip()
    journal.write_bytes(good_line + b"\n".join(bad) + b"\n")

    warnings = quarantine_journal(db)

    assert [w.split(" cannot be read")[0] for w in warnings] == [f"{journal}: line {n}" for n in (2, 3, 4, 5)]
    assert all(f"moved to {journal}.bad" in w for w in warnings)
    assert "not UTF-8" in warnings[1] and "not JSON" in warnings[3]
    assert Path(f"{journal}.bad").read_bytes().splitlines() == bad
    assert journal.read_bytes() == good_line
    assert quarantine_journal(db) == []

    publish(tmp_path, "2025-01", JAN, "r1")  # folds the good line in

    assert rows(db, "SELECT run_id, status FROM runs ORDER BY run_id") == [("r1", "success"), ("x-2025-09", "failed")]
    assert not journal.exists()


def test_a_bad_journal_line_does_not_block_a_publish_even_before_it_is_moved(tmp_path):
    db = tmp_path / "w.duckdb"
    journal = journal_path(db)
    journal.write_bytes(b'{"run_id": "y", "month": "2025-09", "started_at": "2025-10-01T00:00:00", '
                        b'"status": "failed", "rows_in": "abc"}\n')
    publish(tmp_path, "2025-01", JAN, "r1")
    assert rows(db, "SELECT run_id FROM runs") == [("r1",)]


def test_a_warehouse_from_before_new_columns_takes_them_at_its_next_publish(tmp_path):
    # a warehouse published before the contract was extended (and before the segment store:
    # its marts are DuckDB tables) lacks columns its DDL now declares (e.g. run_id, or
    # fct_duty_lines' line facts): the next publish converts it, NULL for the old rows
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.register("jan", JAN.to_arrow())
    con.execute(f"CREATE TABLE {TABLE} AS SELECT * FROM jan")
    con.register("runs_rows", runs_frame([run_record("b1-2025-01", "2025-01")]).drop("warnings"))
    con.execute("CREATE TABLE runs AS SELECT * FROM runs_rows")
    con.close()

    publish(tmp_path, "2025-02", FEB, "b2-2025-02")

    assert rows(db, f"SELECT month, run_id FROM {TABLE} ORDER BY month, hts_code") == [
        ("2025-01", None), ("2025-01", None), ("2025-02", "b2-2025-02"),
    ]
    assert rows(db, "SELECT run_id FROM runs WHERE warnings IS NULL") == [("b1-2025-01",)]
    # the old months now live in the store like the new ones; the catalog holds no mart rows
    assert rows(db, "SELECT table_name, period, row_count FROM tariffcost.segments ORDER BY period") == [
        (TABLE, "2025-01", 2), (TABLE, "2025-02", 1),
    ]
    assert rows(db, f"SELECT table_type FROM information_schema.tables WHERE table_name = '{TABLE}'") == [("VIEW",)]
