"""Month-level publishing rules (issue 15), on the real command line in child processes: what a
run does to every table, export and report of a month, and what it must refuse.

Each child reports to the session's temporary Prefect API (`prefect_api_url`) rather than
starting its own: these tests are about the warehouse, not about Prefect's start-up."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.conftest import write_customs_csv
from tests.flows.cli_process import published, tariffcost
from tests.flows.consistency import assert_month_consistent
from tests.flows.frames import CAR_JUNE

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CUSTOMS = REPO / "data" / "sample" / "customs_lines.parquet"
OCT = "ABC12345678,1,2025-10-15,8703.23.01.90,JP,30000.00,1,NO,vessel,2704,IMP-001,,,"
OCT_2 = "ABC12345679,1,2025-10-20,8708.30.50.90,JP,10000.00,1,NO,vessel,2704,IMP-002,,,"
NOV = "ABC22345678,1,2025-11-15,8703.23.01.90,JP,30000.00,1,NO,vessel,2704,IMP-001,,,"


def rows(db: Path, sql: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect(":memory:")
    con.execute("ATTACH ? AS w (READ_ONLY)", [str(db)])
    con.execute("USE w")
    try:
        return con.sql(sql, params=params or {}).fetchall()
    finally:
        con.close()


def paths(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    db, exports = tmp_path / "w.duckdb", tmp_path / "exports"
    return db, exports, ["--db", str(db), "--exports", str(exports)]


# ------------------------------------------------------------------------------- item 1


def test_a_month_without_rows_in_its_inputs_fails_and_keeps_the_published_month(prefect_api_url, tmp_path):
    db, exports, where = paths(tmp_path)
    october = write_customs_csv(tmp_path / "oct.csv", [OCT, OCT_2])
    november_only = write_customs_csv(tmp_path / "nov_only.csv", [NOV])
    first = tariffcost("run", "--month", "2025-10", "--customs", october, *where, api_url=prefect_api_url)
    assert first.returncode == 0, first.stdout + first.stderr
    before = published(db, exports)
    assert "reports/2025-10.html" in before[1]

    empty = tariffcost("run", "--month", "2025-10", "--customs", november_only, *where, api_url=prefect_api_url)

    assert empty.returncode == 1, empty.stdout + empty.stderr
    assert "2025-10  FAILED" in empty.stdout
    assert f"no rows for 2025-10 in {november_only}" in empty.stdout
    assert "--allow-empty" in empty.stdout
    assert published(db, exports) == before  # warehouse, exports and report byte for byte
    assert_month_consistent(db, exports, "2025-10")

    allowed = tariffcost("run", "--month", "2025-10", "--customs", november_only, "--allow-empty", *where,
                         api_url=prefect_api_url)

    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert rows(db, "SELECT count(*) FROM fct_duty_lines WHERE month = '2025-10'") == [(0,)]
    assert not (exports / "reports" / "2025-10.html").exists()  # no report of the replaced month
    assert_month_consistent(db, exports, "2025-10")


def test_serve_needs_its_inputs_named(tmp_path):
    result = tariffcost("serve", "--db", tmp_path / "w.duckdb")
    assert result.returncode == 2
    assert "serve needs its inputs named" in result.stderr
    assert "{month}" in result.stderr


def test_input_paths_take_a_month_placeholder(prefect_api_url, tmp_path):
    db, exports, where = paths(tmp_path)
    write_customs_csv(tmp_path / "es003_2025-10.csv", [OCT])
    pattern = str(tmp_path / "es003_{month}.csv")

    ok = tariffcost("run", "--month", "2025-10", "--customs", pattern, *where, api_url=prefect_api_url)
    missing = tariffcost("run", "--month", "2025-11", "--customs", pattern, *where, api_url=prefect_api_url)

    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert rows(db, "SELECT count(*) FROM fct_duty_lines WHERE month = '2025-10'") == [(1,)]
    assert missing.returncode == 2
    assert f"{tmp_path / 'es003_2025-11.csv'} does not exist" in missing.stderr
    assert "--customs" in missing.stderr


# ------------------------------------------------------------------------------- item 2


@pytest.fixture(scope="module")
def sample_october(tmp_path_factory, prefect_api_url):
    """October 2025 of the embedded sample (customs + vehicles) with one scenario, and a
    customs file of the same lines with every value raised by 10% (the vehicles' lines
    change their duty)."""
    tmp_path = tmp_path_factory.mktemp("rerun")
    db, exports, where = paths(tmp_path)
    first = tariffcost("run", "--month", "2025-10", "--scenario", "no_japan_deal", *where, api_url=prefect_api_url)
    assert first.returncode == 0, first.stdout + first.stderr
    raised = tmp_path / "october_raised.parquet"
    lines = pl.read_parquet(SAMPLE_CUSTOMS).filter(pl.col("entry_date").str.starts_with("2025-10"))
    lines.with_columns(
        (pl.col("customs_value_usd").cast(pl.Decimal(18, 2)) * pl.lit(11, pl.Decimal(18, 2)) / 10)
        .round(2).cast(pl.Decimal(18, 2)).cast(pl.Utf8).alias("customs_value_usd")
    ).write_parquet(raised)
    return tmp_path, raised


def test_a_rerun_with_customs_only_leaves_no_vehicle_rows_of_the_old_values(prefect_api_url, sample_october):
    tmp_path, raised = sample_october
    db, exports, where = paths(tmp_path)
    assert rows(db, "SELECT count(*) FROM fct_vehicle_duty WHERE month = '2025-10'")[0][0] > 0

    rerun = tariffcost("run", "--month", "2025-10", "--customs", raised, *where, api_url=prefect_api_url)

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    out = rerun.stdout
    # the vehicle marts were computed from the old customs values: gone, and said so
    assert "fct_vehicle_duty" in out and "fct_duty_by_model_month" in out and "no --vehicles" in out
    assert rows(db, "SELECT count(*) FROM fct_vehicle_duty WHERE month = '2025-10'") == [(0,)]
    # the scenarios the month was published with are re-run, and said so
    assert "no_japan_deal" in out and "as last published" in out
    # the summary lists the tables the run replaced
    assert "replaced: fct_duty_lines" in out
    counts = assert_month_consistent(db, exports, "2025-10")
    assert counts["fct_duty_lines"] > 0


def test_a_rerun_with_other_scenarios_replaces_them_and_says_so(prefect_api_url, sample_october):
    tmp_path, raised = sample_october
    db, exports, where = paths(tmp_path)

    rerun = tariffcost("run", "--month", "2025-10", "--customs", raised, "--scenario", "pre_2025", *where,
                       api_url=prefect_api_url)

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "scenarios replaced" in rerun.stdout and "pre_2025" in rerun.stdout
    assert rows(db, "SELECT DISTINCT scenario FROM fct_scenario_duty_by_hs_month WHERE month = '2025-10' ORDER BY 1") == [
        ("as_enacted",), ("pre_2025",),
    ]
    assert_month_consistent(db, exports, "2025-10")


# ------------------------------------------------------------------------------- item 3


def test_an_unreadable_journal_line_is_moved_aside_and_never_blocks_a_publish(prefect_api_url, tmp_path):
    db, exports, where = paths(tmp_path)
    first = tariffcost("run", "--month", "2025-10", "--customs", write_customs_csv(tmp_path / "oct.csv", [OCT]),
                       *where, api_url=prefect_api_url)
    assert first.returncode == 0, first.stdout + first.stderr
    journal = db.with_name("w.duckdb.runs.jsonl")
    good = {"run_id": "x-2025-09", "month": "2025-09", "started_at": "2025-10-01T00:00:00", "status": "failed",
            "finished_at": "2025-10-01T00:00:01", "error_message": "boom"}
    bad_lines = [
        json.dumps({**good, "run_id": "y-2025-09", "rows_in": "abc"}).encode(),  # wrong type
        b'{"run_id": "z-2025-09", "month": "2025-09", "note": "\xff\xfe"}',  # not UTF-8
        json.dumps({**good, "run_id": "w-2025-13", "month": "2025-13"}).encode(),  # no such month
    ]
    journal.write_bytes(b"\n".join([json.dumps(good).encode(), *bad_lines]) + b"\n")

    runs = [tariffcost("run", "--month", month, "--customs", write_customs_csv(tmp_path / f"{month}.csv", [line]),
                       *where, api_url=prefect_api_url) for month, line in (("2025-06", CAR_JUNE), ("2025-11", NOV))]

    for result in runs:
        assert result.returncode == 0, result.stdout + result.stderr
    warned = runs[0].stdout + runs[0].stderr
    assert f"{journal}: line 2" in warned and "line 3" in warned and "line 4" in warned
    assert f"{journal}.bad" in warned
    assert Path(f"{journal}.bad").read_bytes().splitlines() == bad_lines
    assert not journal.exists()  # folded into runs
    assert rows(db, "SELECT run_id, status FROM runs WHERE month = '2025-09'") == [("x-2025-09", "failed")]
    assert rows(db, "SELECT month FROM runs WHERE status = 'success' ORDER BY month") == [
        ("2025-06",), ("2025-10",), ("2025-11",),
    ]


# ------------------------------------------------------------------------------- item 4


def test_a_value_too_large_for_the_month_totals_is_a_reject_not_a_failed_month(prefect_api_url, tmp_path):
    db, exports, where = paths(tmp_path)
    huge = OCT.replace("ABC12345678", "ABC12345670").replace("30000.00", "9999999999999999.99")
    customs = write_customs_csv(tmp_path / "oct.csv", [OCT, huge, OCT_2])

    result = tariffcost("run", "--month", "2025-10", "--customs", customs, "--max-reject-rate", "0.5", *where,
                        api_url=prefect_api_url)

    assert result.returncode == 0, result.stdout + result.stderr
    assert rows(db, 'SELECT source, row_number, "column", "check", value FROM rejects') == [
        (str(customs), 2, "customs_value_usd", "le_max", "9999999999999999.99"),
    ]
    assert rows(db, "SELECT count(*), sum(customs_value_usd) FROM fct_duty_lines") == [(2, 40000)]
    assert_month_consistent(db, exports, "2025-10")


# ------------------------------------------------------------------------------- item 6 and 8


def test_a_report_that_cannot_be_written_leaves_no_old_report(prefect_api_url, tmp_path):
    db, exports, where = paths(tmp_path)
    first = tariffcost("run", "--month", "2025-10", "--customs", write_customs_csv(tmp_path / "a.csv", [OCT]),
                       *where, api_url=prefect_api_url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (exports / "reports" / "2025-10.html").exists()

    # the same month with more lines, and the report cannot be produced (test hook: fails there)
    second = tariffcost("run", "--month", "2025-10", "--customs", write_customs_csv(tmp_path / "b.csv", [OCT, OCT_2]),
                        *where, api_url=prefect_api_url, TARIFFCOST_TEST_FAIL_AT="report")

    assert second.returncode == 0, second.stdout + second.stderr
    assert "report 2025-10 not written" in second.stderr
    assert not (exports / "reports" / "2025-10.html").exists()
    assert rows(db, "SELECT count(*) FROM fct_duty_lines") == [(2,)]
    assert_month_consistent(db, exports, "2025-10")


def test_a_corrupt_warehouse_is_named_by_its_live_path(prefect_api_url, tmp_path):
    db, exports, where = paths(tmp_path)
    db.write_bytes(b"this is not a DuckDB file" * 1000)
    before = published(db, exports)

    result = tariffcost("run", "--month", "2025-10", "--customs", write_customs_csv(tmp_path / "a.csv", [OCT]),
                        *where, api_url=prefect_api_url)

    assert result.returncode == 1
    assert f"the warehouse {db} cannot be opened" in result.stdout
    assert ".staging-" not in result.stdout
    assert published(db, exports) == before
