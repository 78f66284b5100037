"""The benchmark's baseline (bench/plain_duckdb.sql) computes what the pipeline computes: on a
generated month of each mix (bench/generate_lines.py), every line of its fct_duty_lines equals
the pipeline's line (duty by program, fees allocated by largest remainder, headings, effective
rate), and its HS-month table equals the pipeline's. A lean script that drifted from the rules
would make the benchmark's ratios meaningless."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

from flows.run.monthly import RunOptions, run_months

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
from generate_lines import generate_lines  # noqa: E402
from plain_duckdb import run_baseline  # noqa: E402

MONTH = "2025-10"
# the pipeline stores entry numbers normalised (no dashes); the script keeps the raw text
LINE_COLUMNS = (
    "replace(entry_number, '-', '') AS entry, line_number, entry_date, month, hts_code, country_of_origin, "
    "customs_value_usd, mfn_duty_usd, section_232_duty_usd, ieepa_duty_usd, other_duty_usd, total_duty_usd, "
    "mpf_usd, hmf_usd, total_cost_usd, effective_duty_rate, ch99_headings"
)
HS_MONTH_COLUMNS = (
    "month, hts_code, country_of_origin, line_count, customs_value_usd, mfn_duty_usd, section_232_duty_usd, "
    "ieepa_duty_usd, other_duty_usd, total_duty_usd, mpf_usd, hmf_usd, total_cost_usd, effective_duty_rate"
)


@pytest.mark.parametrize("mix", ["census", "realistic"])
def test_the_baseline_script_agrees_with_the_pipeline_line_by_line(tmp_path, mix):
    customs = tmp_path / "lines.parquet"
    generate_lines(3_000, customs, MONTH, seed=7, mix=mix)
    results = run_months([MONTH], RunOptions(db_path=tmp_path / "w.duckdb", exports_dir=tmp_path / "exports",
                                             inputs={"customs": customs}))
    assert results[-1].status == "success", results[-1].error
    run_baseline(customs, MONTH, tmp_path / "baseline.duckdb", tmp_path / "agg.parquet")

    con = duckdb.connect()
    con.execute(f"ATTACH '{tmp_path / 'w.duckdb'}' AS p (READ_ONLY)")
    con.execute(f"ATTACH '{tmp_path / 'baseline.duckdb'}' AS b (READ_ONLY)")
    for table, columns in (("fct_duty_lines", LINE_COLUMNS), ("fct_duty_by_hs_month", HS_MONTH_COLUMNS)):
        count = con.sql(f"SELECT count(*) FROM p.{table}").fetchall()[0][0]
        assert count == con.sql(f"SELECT count(*) FROM b.{table}").fetchall()[0][0] > 0
        for left, right in (("p", "b"), ("b", "p")):
            differing = con.sql(
                f"SELECT * FROM (SELECT {columns} FROM {left}.{table} EXCEPT ALL SELECT {columns} FROM {right}.{table}) LIMIT 3"
            ).fetchall()
            assert differing == [], f"{table}: rows of {left} not in {right}: {differing}"
    exported = con.sql(f"SELECT count(*) FROM read_parquet('{tmp_path / 'agg.parquet'}')").fetchall()[0][0]
    assert exported == con.sql("SELECT count(*) FROM b.fct_duty_by_hs_month").fetchall()[0][0]
