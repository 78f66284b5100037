"""The cluster backfill's business logic without a cluster: months staged as Parquet (whole
or in entry-hash partitions) and published in one swap give the sequential run's tables."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.config import SAMPLE_CUSTOMS
from flows.run.cluster_months import MonthJob, merge_partitions, stage_month, stage_partition
from flows.run.distributed import publish_staged
from flows.run.monthly import RunOptions, run_months
from flows.run.partitions import entry_partition, month_line_counts, partition_plan
from flows.run.storage import local_input, read_frame, write_frame
from flows.warehouse.journal import read_journal
from tests.distributed.tables import assert_same_publication

MONTHS = ["2025-03", "2025-04", "2025-05"]


def job(schedule, month: str, staging: Path, customs: str | Path = SAMPLE_CUSTOMS, max_reject_rate: float = 0.01) -> MonthJob:
    return MonthJob(month=month, run_id=f"batch-{month}", inputs={"customs": str(customs)}, schedule=schedule,
                    max_reject_rate=max_reject_rate, scenarios=(), staging=str(staging / month))


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    root = tmp_path_factory.mktemp("sequential")
    options = RunOptions(db_path=root / "w.duckdb", exports_dir=root / "exports", inputs={"customs": SAMPLE_CUSTOMS})
    assert [r.status for r in run_months(MONTHS, options)] == ["success"] * len(MONTHS)
    return root / "w.duckdb", root / "exports"


def test_staged_months_whole_and_partitioned_publish_the_sequential_tables(tmp_path, schedule, sequential):
    staging = tmp_path / "staging"
    staged = [
        stage_month(job(schedule, "2025-03", staging)),
        # 2025-04 in 3 entry-hash partitions, merged
        merge_partitions(job(schedule, "2025-04", staging),
                         [stage_partition(job(schedule, "2025-04", staging), i, 3) for i in range(3)]),
        stage_month(job(schedule, "2025-05", staging)),
    ]
    assert [s.result.status for s in staged] == ["success"] * 3, [s.result.error for s in staged]
    results = publish_staged(staged, tmp_path / "w.duckdb", tmp_path / "exports")
    assert [r.month for r in results] == MONTHS
    assert_same_publication(*sequential, tmp_path / "w.duckdb", tmp_path / "exports")


def test_a_failed_month_publishes_the_months_before_it_and_journals_the_rest(tmp_path, schedule, customs_csv):
    ok_march = "ABC12345671,1,2025-03-15,8703.23.01.90,JP,30000.00,1,NO,vessel,2704,IMP-001,,,"
    bad_april = "ABC22345672,1,2025-04-15,8703.23.01.90,XZ,30000.00,1,NO,vessel,2704,IMP-001,,,"
    ok_may = "ABC32345673,1,2025-05-15,8703.23.01.90,JP,30000.00,1,NO,vessel,2704,IMP-001,,,"
    customs = customs_csv([ok_march, bad_april, ok_may])
    staged = [stage_month(job(schedule, m, tmp_path / "s", customs)) for m in MONTHS]
    assert [s.result.status for s in staged] == ["success", "failed", "success"]
    assert "exceeds --max-reject-rate" in staged[1].result.error
    db = tmp_path / "w.duckdb"
    results = publish_staged(staged, db, tmp_path / "exports")
    assert [(r.month, r.status) for r in results] == [("2025-03", "success"), ("2025-04", "failed")]
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("SELECT DISTINCT month FROM fct_duty_lines").fetchall() == [("2025-03",)]
    # the failed attempts were journaled, then folded into `runs` by the publish
    runs = dict(con.sql("SELECT month, status || ': ' || coalesce(error_message, '') FROM runs").fetchall())
    con.close()
    assert read_journal(db) == []
    assert runs["2025-03"] == "success: "
    assert runs["2025-04"].startswith("failed: ") and "max-reject-rate" in runs["2025-04"]
    assert runs["2025-05"] == "failed: not published: the earlier month 2025-04 failed"


def test_mpf_is_computed_per_whole_entry_across_partitions(tmp_path, schedule, customs_csv):
    # FY2025 MPF: 0.3464 % of the entry's value, clamped to [32.71, 634.62], allocated by value.
    rows = [
        # entry A: 2 × 150,000.00 → 300,000 × 0.003464 = 1,039.20 → max 634.62 → 317.31 each
        # (priced line by line it would be 519.60 each)
        "ABC12345671,1,2025-06-10,8703.23.01.90,JP,150000.00,1,NO,truck,2304,IMP-001,,,",
        "ABC12345671,2,2025-06-10,8703.23.01.90,JP,150000.00,1,NO,truck,2304,IMP-001,,,",
        # entry B: 5,000.00 × 0.003464 = 17.32 → min 32.71
        "ABC22345672,1,2025-06-11,8703.23.01.90,JP,5000.00,1,NO,truck,2304,IMP-002,,,",
        # entry C: 3 × 100,000.00 → 1,039.20 → 634.62 → 211.54 each
        "ABC32345673,1,2025-06-12,8703.23.01.90,JP,100000.00,1,NO,truck,2304,IMP-003,,,",
        "ABC32345673,2,2025-06-12,8703.23.01.90,JP,100000.00,1,NO,truck,2304,IMP-003,,,",
        "ABC32345673,3,2025-06-12,8703.23.01.90,JP,100000.00,1,NO,truck,2304,IMP-003,,,",
    ]
    customs = customs_csv(rows)
    month_job = job(schedule, "2025-06", tmp_path / "s", customs)
    parts = [stage_partition(month_job, i, 4) for i in range(4)]  # 3 entries, 4 partitions: one is empty
    assert sum(p.rows_in for p in parts) == 6 and all(p.error is None for p in parts)
    merged = merge_partitions(month_job, parts)
    lines = read_frame(merged.tables["fct_duty_lines"]).sort("entry_number", "line_number")
    assert lines.select("entry_number", "line_number", "mpf_usd").rows() == [
        ("ABC12345671", 1, Decimal("317.31")), ("ABC12345671", 2, Decimal("317.31")),
        ("ABC22345672", 1, Decimal("32.71")),
        ("ABC32345673", 1, Decimal("211.54")), ("ABC32345673", 2, Decimal("211.54")),
        ("ABC32345673", 3, Decimal("211.54")),
    ]
    whole = stage_month(job(schedule, "2025-06", tmp_path / "w", customs))
    for table, location in whole.tables.items():
        got = read_frame(merged.tables[table])
        want = read_frame(location)
        assert got.sort(got.columns).equals(want.sort(want.columns)), table


entry_numbers = st.builds(
    lambda filer, number, dashed: f"{filer}-{number:07d}-{number % 10}" if dashed else f"{filer}{number:07d}{number % 10}",
    st.sampled_from(["ABC", "EBJ", "a7k"]), st.integers(0, 9_999_999), st.booleans(),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(entry_numbers, min_size=1, max_size=40), st.integers(1, 7))
def test_every_line_lands_in_exactly_one_partition_and_entries_stay_whole(numbers, count):
    raw = pl.DataFrame({"entry_number": numbers})
    member = raw.select(*(entry_partition(i, count).alias(f"p{i}") for i in range(count)))
    assert member.select(pl.sum_horizontal(pl.all().cast(pl.Int32))).to_series().to_list() == [1] * len(numbers)
    # dashes and case do not matter: ABC-1234567-8 and abc12345678 are one entry
    normalised = raw.with_columns(key=pl.col("entry_number").str.replace_all("-", "").str.to_uppercase())
    with_part = normalised.with_columns(part=member.select(pl.concat_list(pl.all()).list.arg_max()).to_series())
    assert with_part.group_by("key").agg(pl.col("part").n_unique()).get_column("part").max() == 1


def test_partition_plan_splits_months_over_the_threshold():
    # 2,500 lines at 1,000 per partition → ceil(2.5) = 3; an absent month → 1
    assert partition_plan(["2025-01", "2025-02", "2025-03"], {"2025-01": 2500, "2025-02": 1000}, 1000) == {
        "2025-01": 3, "2025-02": 1, "2025-03": 1,
    }
    with pytest.raises(ValueError, match="partition-lines"):
        partition_plan(["2025-01"], {}, 0)
    with pytest.raises(ValueError, match="not in 0..2"):
        entry_partition(3, 3)


def test_month_line_counts_of_the_sample():
    counts = month_line_counts(SAMPLE_CUSTOMS)
    raw = pl.read_parquet(SAMPLE_CUSTOMS)
    assert counts["2025-01"] == raw.filter(pl.col("entry_date").str.starts_with("2025-01")).height == 2416


def test_url_inputs_are_read_through_fsspec_and_named_by_their_url(tmp_path, schedule, customs_csv):
    import fsspec

    bad = "ABC22345672,1,2025-04-15,8703.23.01.90,XZ,30000.00,1,NO,vessel,2704,IMP-001,,,"
    ok = "ABC12345671,1,2025-04-15,8703.23.01.90,JP,30000.00,1,NO,vessel,2704,IMP-001,,,"
    local = customs_csv([ok, bad])
    url = "memory://tariffcost-test/customs.csv"
    with fsspec.open(url, "wb") as handle:
        handle.write(local.read_bytes())
    assert local_input(url, str(tmp_path / "cache")).read_bytes() == local.read_bytes()
    staged = stage_month(job(schedule, "2025-04", tmp_path / "s", url, max_reject_rate=1.0))
    assert staged.result.status == "success", staged.result.error
    assert read_frame(staged.tables["rejects"])["source"].unique().to_list() == [url]
    assert staged.record.input_checksums["customs"]["path"] == url
    # the staging area may be a URL too
    frame = pl.DataFrame({"a": [Decimal("1.10")]}, schema={"a": pl.Decimal(18, 2)})
    assert read_frame(write_frame(frame, "memory://tariffcost-test/stage/a.parquet")).equals(frame)
