"""What "a published month is consistent" means, checked on the files a reader sees (the
warehouse, the Parquet exports and the HTML report), with nothing but DuckDB and the paths:

- the HS-month mart is the exact sum of fct_duty_lines;
- every vehicle row belongs to a line of fct_duty_lines, the vehicles' duty of a line sums to
  the line's duty, and the model-month mart sums the vehicles;
- the scenario mart's `as_enacted` rows are the sums of fct_duty_lines, and the scenarios
  present are those of the month's last successful run;
- every mart row of the month carries the run_id of the month's last successful run;
- each export month file holds exactly the table's rows of the month;
- the month's report names that run and shows the month's total duty (or there is none).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb

MARTS = (
    "fct_duty_lines", "fct_duty_by_hs_month", "fct_scenario_duty_by_hs_month", "fct_reconciliation",
    "fct_reconciliation_by_importer_month", "fct_ieepa_refunds", "fct_ieepa_refunds_by_importer_month",
    "fct_census_duty_by_hs_month", "fct_vehicle_duty", "fct_duty_by_model_month",
)
EXPORTS = {
    "fct_duty_lines": "duty_lines", "fct_duty_by_hs_month": "duty_by_hs_month",
    "fct_scenario_duty_by_hs_month": "scenario_duty_by_hs_month", "fct_reconciliation": "reconciliation",
    "fct_reconciliation_by_importer_month": "reconciliation_by_importer_month",
    "fct_ieepa_refunds": "ieepa_refunds", "fct_ieepa_refunds_by_importer_month": "ieepa_refunds_by_importer_month",
    "fct_census_duty_by_hs_month": "census_duty_by_hs_month", "fct_vehicle_duty": "vehicle_duty",
    "fct_duty_by_model_month": "duty_by_model_month",
}
SUMMED = ("customs_value_usd", "mfn_duty_usd", "section_232_duty_usd", "ieepa_duty_usd",
          "other_duty_usd", "total_duty_usd", "mpf_usd", "hmf_usd", "total_cost_usd")


def _one(con, sql: str, params: dict | None = None):
    return con.sql(sql, params=params or {}).fetchall()


def tables(con) -> set[str]:
    return {r[0] for r in _one(con, "SELECT table_name FROM information_schema.tables")}


def last_success(con, month: str) -> dict | None:
    rows = con.sql(
        "SELECT run_id, scenarios FROM runs WHERE month = $m AND status = 'success' "
        "ORDER BY finished_at DESC LIMIT 1", params={"m": month}
    ).fetchall()
    return {"run_id": rows[0][0], "scenarios": json.loads(rows[0][1] or "[]")} if rows else None


def money(value) -> str:
    return f"${Decimal(value):,.2f}"


def month_file(exports: Path, export: str, month: str) -> Path:
    year, number = month.split("-")
    return exports / export / f"year={int(year)}" / f"month={int(number)}" / "part-0.parquet"


def assert_month_consistent(db: Path, exports: Path, month: str) -> dict:
    """Assert every rule above for `month`; returns {table: rows of the month}."""
    con = duckdb.connect(":memory:")  # a private instance: never DuckDB's cached one
    con.execute("ATTACH ? AS w (READ_ONLY)", [str(db)])
    con.execute("USE w")
    try:
        present = tables(con) & set(MARTS)
        run = last_success(con, month)
        counts = {t: _one(con, f'SELECT count(*) FROM "{t}" WHERE month = $m', {"m": month})[0][0] for t in present}
        if run is None:
            assert not any(counts.values()), f"rows of {month} without a successful run: {counts}"
            return counts
        sums = ", ".join(f"sum({c})" for c in SUMMED)
        lines = _one(con, f"SELECT count(*), {sums} FROM fct_duty_lines WHERE month = $m", {"m": month})[0]
        by_hs = _one(con, f"SELECT coalesce(sum(line_count), 0), {sums} FROM fct_duty_by_hs_month WHERE month = $m",
                     {"m": month})[0]
        assert lines == by_hs, f"{month}: fct_duty_by_hs_month {by_hs} != fct_duty_lines {lines}"
        if "fct_vehicle_duty" in present and counts["fct_vehicle_duty"]:
            orphans = _one(con, """
                SELECT v.vin FROM fct_vehicle_duty v ANTI JOIN fct_duty_lines l
                  ON l.month = v.month AND l.entry_number = v.entry_number AND l.line_number = v.line_number
                WHERE v.month = $m LIMIT 3""", {"m": month})
            assert not orphans, f"{month}: vehicles without their line: {orphans}"
            off = _one(con, """
                SELECT l.entry_number, l.line_number, l.total_duty_usd, sum(v.duty_usd)
                FROM fct_vehicle_duty v JOIN fct_duty_lines l
                  ON l.month = v.month AND l.entry_number = v.entry_number AND l.line_number = v.line_number
                WHERE v.month = $m GROUP BY ALL HAVING sum(v.duty_usd) <> l.total_duty_usd LIMIT 3""", {"m": month})
            assert not off, f"{month}: vehicle duty disagrees with its line: {off}"
            vehicles = _one(con, "SELECT count(*), sum(duty_usd), sum(total_cost_usd) FROM fct_vehicle_duty WHERE month = $m",
                            {"m": month})[0]
            models = _one(con, "SELECT sum(vehicles), sum(total_duty_usd), sum(total_cost_usd) FROM fct_duty_by_model_month "
                               "WHERE month = $m", {"m": month})[0]
            assert vehicles == models, f"{month}: fct_duty_by_model_month {models} != fct_vehicle_duty {vehicles}"
        elif "fct_duty_by_model_month" in present:
            assert counts["fct_duty_by_model_month"] == 0, f"{month}: model-month rows without vehicles"
        if "fct_scenario_duty_by_hs_month" in present and counts["fct_scenario_duty_by_hs_month"]:
            enacted = _one(con, "SELECT coalesce(sum(line_count), 0), sum(total_duty_usd) FROM fct_scenario_duty_by_hs_month "
                                "WHERE month = $m AND scenario = 'as_enacted'", {"m": month})[0]
            assert enacted == (lines[0], lines[6]), f"{month}: as_enacted {enacted} != lines {lines[0], lines[6]}"
            names = {r[0] for r in _one(con, "SELECT DISTINCT scenario FROM fct_scenario_duty_by_hs_month WHERE month = $m",
                                        {"m": month})}
            assert names == {"as_enacted", *run["scenarios"]}, f"{month}: scenarios {names} vs run {run['scenarios']}"
        for table in present:
            columns = {r[0] for r in _one(con, "SELECT column_name FROM information_schema.columns WHERE table_name = $t",
                                          {"t": table})}
            assert "run_id" in columns, f"{table} has no run_id column"
            stray = _one(con, f'SELECT DISTINCT run_id FROM "{table}" WHERE month = $m AND run_id IS DISTINCT FROM $r',
                         {"m": month, "r": run["run_id"]})
            assert not stray, f"{month}: {table} holds rows of runs {stray}, not of the last success {run['run_id']}"
            path = month_file(exports, EXPORTS[table], month)
            if counts[table]:
                assert path.is_file(), f"{month}: {path} missing for {counts[table]} rows of {table}"
            if path.is_file():
                exported = _one(con, "SELECT count(*) FROM read_parquet($p)", {"p": str(path)})[0][0]
                assert exported == counts[table], f"{month}: {path} has {exported} rows, {table} {counts[table]}"
        report = exports / "reports" / f"{month}.html"
        if report.exists():
            html = report.read_text(encoding="utf-8")
            assert f"Run {run['run_id']}," in html, f"{report} is not the report of run {run['run_id']}"
            assert money(lines[6]) in html, f"{report} does not show the month's total duty {money(lines[6])}"
        return counts
    finally:
        con.close()
