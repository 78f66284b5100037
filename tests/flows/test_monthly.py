"""The month logic without Prefect (`run_months`): golden runs on tiny inputs with the shipped
schedule, the reject threshold, failures that publish nothing, and the runs journal."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.present.summary import summary_lines
from flows.run.monthly import MARTS, Mart, RunOptions, check_inputs, run_months
from flows.warehouse.journal import journal_path, read_journal
from tests.flows.frames import BAD_JUNE, CAR_JUNE, CAR_JUNE_2, CAR_MARCH, CAR_SEPT


def options(tmp_path: Path, customs: Path, **changes) -> RunOptions:
    values = dict(db_path=tmp_path / "wh" / "w.duckdb", exports_dir=tmp_path / "exports",
                  inputs={"customs": customs})
    values.update(changes)
    return RunOptions(**values)


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_golden_months_with_the_worked_examples(tmp_path, customs_csv, schedule):
    # 2025-03-15: 2.5% MFN = 750.00; 2025-06-10: 2.5% + 25% (232 autos) = 8,250.00;
    # 2025-09-16: Japan deal, 15% total = 4,500.00 (MFN 750.00 + 232 3,750.00)
    path = customs_csv([CAR_MARCH, CAR_JUNE, CAR_SEPT])
    opts = options(tmp_path, path)

    results = run_months(["2025-03", "2025-06", "2025-09"], opts, schedule=schedule)

    assert [r.status for r in results] == ["success"] * 3
    db = opts.db_path
    assert query(db, "SELECT month, mfn_duty_usd, section_232_duty_usd, ieepa_duty_usd, total_duty_usd, "
                     "ch99_headings FROM fct_duty_lines ORDER BY month") == [
        ("2025-03", Decimal("750.00"), Decimal("0.00"), Decimal("0.00"), Decimal("750.00"), ""),
        ("2025-06", Decimal("750.00"), Decimal("7500.00"), Decimal("0.00"), Decimal("8250.00"), "9903.94.01"),
        ("2025-09", Decimal("750.00"), Decimal("3750.00"), Decimal("0.00"), Decimal("4500.00"), "9903.94.41"),
    ]
    assert query(db, "SELECT month, line_count, total_duty_usd FROM fct_duty_by_hs_month ORDER BY month") == [
        ("2025-03", 1, Decimal("750.00")), ("2025-06", 1, Decimal("8250.00")), ("2025-09", 1, Decimal("4500.00")),
    ]
    runs = query(db, "SELECT month, status, rows_in, rows_rejected, rows_published, schedule_version, "
                     "input_checksums FROM runs ORDER BY month")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert [r[:6] for r in runs] == [(m, "success", 1, 0, 1, schedule.version) for m in ("2025-03", "2025-06", "2025-09")]
    assert all(json.loads(r[6])["customs"]["sha256"] == sha for r in runs)
    assert results[1].duty_by_program["total duty"] == Decimal("8250.00")
    assert sorted(p.name for p in (opts.exports_dir / "duty_lines/year=2025").iterdir()) == ["month=3", "month=6", "month=9"]
    assert not journal_path(db).exists()


def test_reject_threshold_fails_the_month_and_publishes_nothing(tmp_path, customs_csv, schedule):
    opts = options(tmp_path, customs_csv([CAR_MARCH]))
    run_months(["2025-03"], opts, schedule=schedule)
    db_before = hashlib.sha256(opts.db_path.read_bytes()).hexdigest()
    exports_before = tree(opts.exports_dir)
    june = customs_csv([CAR_JUNE, CAR_JUNE_2, BAD_JUNE], name="june.csv")

    [failed] = run_months(["2025-06"], options(tmp_path, june), schedule=schedule)

    # 1 rejected row of 3 = 33% > 1%: the month fails, every byte stays as it was
    assert failed.status == "failed"
    assert (failed.rows_in, failed.rows_rejected) == (3, 1)
    assert "exceeds --max-reject-rate 1.00%" in failed.error
    assert [(p.column, p.check, p.rows, p.examples) for p in failed.problems] == [
        ("country_of_origin", "iso3166_alpha2", 1, [(3, "XZ")])
    ]
    assert hashlib.sha256(opts.db_path.read_bytes()).hexdigest() == db_before
    assert tree(opts.exports_dir) == exports_before
    assert [(r.status, r.month) for r in read_journal(opts.db_path)] == [("failed", "2025-06")]
    text = "\n".join(summary_lines([failed]))
    assert "nothing was published" in text and "iso3166_alpha2: 1 row (e.g. row 3 'XZ')" in text

    # the same file under a looser threshold publishes, with the reject, and folds the attempt
    [ok] = run_months(["2025-06"], options(tmp_path, june, max_reject_rate=0.5), schedule=schedule)
    assert ok.status == "success" and ok.rows_published == 2
    assert query(opts.db_path, "SELECT month, status FROM runs ORDER BY started_at") == [
        ("2025-03", "success"), ("2025-06", "failed"), ("2025-06", "success"),
    ]
    assert query(opts.db_path, 'SELECT row_number, "column", "check", value FROM rejects') == [
        (3, "country_of_origin", "iso3166_alpha2", "XZ")
    ]


def test_a_mart_breaking_its_contract_fails_the_month(tmp_path, customs_csv, schedule):
    def negative_duty(ctx):
        lines = MARTS[0].build(ctx)
        return lines.with_columns(mfn_duty_usd=-pl.col("mfn_duty_usd"))

    broken = [Mart("fct_duty_lines", negative_duty, MARTS[0].schema, "duty_lines", ("customs",))]
    opts = options(tmp_path, customs_csv([CAR_JUNE]))

    [result] = run_months(["2025-06"], opts, schedule=schedule, marts=broken)

    assert result.status == "failed"
    assert result.error.startswith("fct_duty_lines does not meet schemas/fct_duty_lines.py: mfn_duty_usd")
    assert not opts.db_path.exists()
    assert not opts.exports_dir.exists() or tree(opts.exports_dir) == {}
    [journaled] = read_journal(opts.db_path)
    assert journaled.status == "failed" and "load" in journaled.stage_timings


def test_an_unreadable_input_fails_the_month(tmp_path, schedule):
    bad = tmp_path / "bad.csv"
    bad.write_text("entry_number;line_number\nABC12345678;1\n", encoding="utf-8")
    opts = options(tmp_path, bad)

    [result] = run_months(["2025-06"], opts, schedule=schedule)

    assert result.status == "failed" and "bad.csv" in result.error
    assert not opts.db_path.exists()


def test_backfill_stops_at_the_first_failed_month(tmp_path, customs_csv, schedule):
    path = customs_csv([CAR_MARCH, BAD_JUNE, CAR_SEPT])
    opts = options(tmp_path, path)

    results = run_months(["2025-03", "2025-06", "2025-09"], opts, schedule=schedule)

    # June has 1 row, rejected: 100% > 1%
    assert [(r.month, r.status) for r in results] == [("2025-03", "success"), ("2025-06", "failed")]
    assert query(opts.db_path, "SELECT DISTINCT month FROM fct_duty_lines") == [("2025-03",)]


def test_inputs_need_a_registered_loader():
    with pytest.raises(ValueError, match="no loader for input kind"):
        check_inputs({"customs": Path("a.csv"), "tea_leaves": Path("b.csv")})
    with pytest.raises(ValueError, match="no input given"):
        check_inputs({})
