"""The benchmark's baseline (bench/plain_duckdb.sql) computes what the pipeline computes: on a
generated month of each mix (bench/generate_lines.py), every line of its fct_duty_lines equals
the pipeline's line (duty by program, fees allocated by largest remainder, headings, effective
rate), and its HS-month table equals the pipeline's. A lean script that drifted from the rules
would make the benchmark's ratios meaningless.

The months are chosen so that the comparison covers issue 16's rules: October 2025 (the
bench's month: steel and aluminum derivatives on their declared content, the reciprocal on the
non-metal value, claims of 9903.94.06) and, for the realistic mix, February 2026 (Section 122
from the 24th with its in-transit rule, its exemption list and claimed certified parts)."""

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
# per (mix, month): headings some line of the pipeline must carry together, so that the
# comparison is known to cover the rules they stand for
EXERCISED = {
    # steel content of motorcycles (9903.81.91) beside the Japan reciprocal on the non-metal value
    ("census", "2025-10"): [("9903.81.91", "9903.02.73")],
    # and aluminum content; the claim exemption of 9903.94.06
    ("realistic", "2025-10"): [("9903.81.91", "9903.02.73"), ("9903.85.08",), ("9903.94.06",)],
    # Section 122 on the non-metal value, its in-transit rule (9903.03.02) and list (9903.03.03);
    # certified Japanese parts claimed (9903.94.55)
    ("realistic", "2026-02"): [("9903.81.91", "9903.03.01"), ("9903.03.02",), ("9903.03.03",), ("9903.94.55",)],
}


def _differing(con: duckdb.DuckDBPyConnection, table: str, columns: str, left: str, right: str) -> list[tuple]:
    """Rows of `left`.`table` (as `columns`) that `right`.`table` does not hold, counted."""
    return con.execute(
        f"SELECT {columns} FROM {left}.{table} EXCEPT ALL SELECT {columns} FROM {right}.{table}"
    ).fetchall()


@pytest.mark.parametrize(("mix", "month"), list(EXERCISED))
def test_the_baseline_script_agrees_with_the_pipeline_line_by_line(tmp_path, mix, month):
    customs = tmp_path / "lines.parquet"
    generate_lines(3_000, customs, month, seed=7, mix=mix)
    results = run_months([month], RunOptions(db_path=tmp_path / "w.duckdb", exports_dir=tmp_path / "exports",
                                             inputs={"customs": customs}))
    assert results[-1].status == "success", results[-1].error
    baseline = tmp_path / "baseline.duckdb"
    run_baseline(customs, month, baseline, tmp_path / "agg.parquet")

    con = duckdb.connect()
    con.execute(f"ATTACH '{tmp_path / 'w.duckdb'}' AS p (READ_ONLY)")
    con.execute(f"ATTACH '{baseline}' AS b")
    headings = [set(h.split(", ")) for (h,) in con.execute("SELECT ch99_headings FROM p.fct_duty_lines").fetchall()]
    for together in EXERCISED[(mix, month)]:
        assert any(set(together) <= line for line in headings), f"no line of {mix} {month} carries {together}"
    for table, columns in (("fct_duty_lines", LINE_COLUMNS), ("fct_duty_by_hs_month", HS_MONTH_COLUMNS)):
        count = con.execute(f"SELECT count(*) FROM p.{table}").fetchall()[0][0]
        assert count == con.execute(f"SELECT count(*) FROM b.{table}").fetchall()[0][0] > 0
        for left, right in (("p", "b"), ("b", "p")):
            differing = _differing(con, table, columns, left, right)
            assert differing == [], f"{table}: {len(differing)} rows of {left} not in {right}: {differing[:3]}"
    exported = con.execute(f"SELECT count(*) FROM read_parquet('{tmp_path / 'agg.parquet'}')").fetchall()[0][0]
    assert exported == con.execute("SELECT count(*) FROM b.fct_duty_by_hs_month").fetchall()[0][0]

    # the comparison sees one cent on one line
    con.execute("UPDATE b.fct_duty_lines SET mpf_usd = mpf_usd + 0.01 WHERE rowid = (SELECT max(rowid) FROM b.fct_duty_lines)")
    assert len(_differing(con, "fct_duty_lines", LINE_COLUMNS, "b", "p")) == 1
