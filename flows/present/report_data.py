"""What the monthly report shows, read from the published warehouse (read-only) and the
schedule: one `ReportData` per month. Queries live in `sql/report_*.sql`; HS descriptions come
from the schedule's USITC MFN file (`brief_description` at HTS8,
data/schedule/default/mfn_usitc_2025.csv)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from flows.warehouse.reader import connect as connect_warehouse
from transforms.schedule import Schedule

DEFAULT_ORIGIN = "JP"
TOP_HS = 10
TOP_IMPORTERS = 10


class ReportError(RuntimeError):
    """The report cannot be built (the warehouse lacks the month)."""


def _sql(name: str) -> str:
    return resources.files("sql").joinpath(f"report_{name}.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class RefundData:
    """The IEEPA refund ledger of every entry month up to the report month."""

    by_status: pl.DataFrame  # refund_status × cape_eligible (report_refunds_by_status.sql)
    by_month: pl.DataFrame  # month × refund_status (report_refunds_by_month.sql)
    importers: pl.DataFrame  # top importers (report_refund_importers.sql)


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, read from the warehouse and the schedule."""

    month: str
    origin: str
    totals: dict
    by_program: pl.DataFrame
    rates: pl.DataFrame
    top_hs: pl.DataFrame  # with `description` (USITC brief description of the HTS8)
    landed_cost: pl.DataFrame
    fees_by_month: pl.DataFrame
    policy_events: pl.DataFrame  # number, date, label
    run: dict | None
    scenarios: pl.DataFrame | None
    scenario_trend: pl.DataFrame | None
    rejects: pl.DataFrame | None
    reconciliation: pl.DataFrame | None
    refunds: RefundData | None
    line_facts: pl.DataFrame | None = None  # the rules decided by the lines' own facts


def policy_events(schedule: Schedule, origin: str, first_day: dt.date, last_day: dt.date) -> pl.DataFrame:
    """The schedule's measure start and end dates that concern `origin` (its own measures and
    the all-origin ones) within [first_day, last_day]: one row per date, numbered from 1 in date
    order (`number`, the marker drawn on the rate chart), `label` naming what changes (e.g.
    `s232_autos starts (9903.94.01)`)."""
    measures = schedule.measures.filter(pl.col("origin").is_in([origin, "*"]))
    starts = measures.select(
        date=pl.col("valid_from"), label=pl.col("measure_id") + pl.lit(" starts (") + pl.col("heading") + pl.lit(")")
    )
    ends = measures.filter(pl.col("valid_to").is_not_null()).select(
        date=pl.col("valid_to"), label=pl.col("measure_id") + pl.lit(" ends")
    )
    return (
        pl.concat([starts, ends])
        .filter(pl.col("date").is_between(first_day, last_day))
        .sort("date", "label")
        .group_by("date", maintain_order=True)
        .agg(label=pl.col("label").str.join("; "))
        .sort("date")
        .with_row_index("number", offset=1)
        .with_columns(pl.col("number").cast(pl.Int64))
    )


def hs_descriptions(schedule: Schedule) -> pl.DataFrame:
    """hts8 → `description`, the USITC tariff database's brief description (null where the
    schedule's MFN file has none)."""
    if "brief_description" not in schedule.mfn.columns:
        return pl.DataFrame(schema={"hts8": pl.Utf8, "description": pl.Utf8})
    return schedule.mfn.select("hts8", description=pl.col("brief_description")).unique("hts8", keep="first")


def _with_descriptions(top_hs: pl.DataFrame, schedule: Schedule) -> pl.DataFrame:
    described = top_hs.with_columns(hts8=pl.col("hts_code").str.slice(0, 8)).join(
        hs_descriptions(schedule), on="hts8", how="left"
    )
    return described.drop("hts8").sort("total_duty_usd", "hts_code", descending=[True, False])


def month_start(month: str) -> dt.date:
    return dt.date.fromisoformat(f"{month}-01")


def month_end(month: str) -> dt.date:
    start = month_start(month)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _month_totals(con: duckdb.DuckDBPyConnection, month: str) -> dict:
    rows = con.execute(_sql("month_totals"), {"month": month}).fetchall()
    columns = [d[0] for d in con.description]
    return dict(zip(columns, rows[0], strict=True))


def _refunds(con: duckdb.DuckDBPyConnection, tables: set[str], month: str) -> RefundData | None:
    if "fct_ieepa_refunds" not in tables:
        return None
    params = {"month": month}
    importers = (
        con.sql(_sql("refund_importers"), params={"month": month, "top": TOP_IMPORTERS}).pl()
        if "fct_ieepa_refunds_by_importer_month" in tables else pl.DataFrame()
    )
    return RefundData(
        by_status=con.sql(_sql("refunds_by_status"), params=params).pl(),
        by_month=con.sql(_sql("refunds_by_month"), params=params).pl(),
        importers=importers,
    )


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of `table` (none if the warehouse predates it)."""
    query = "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
    return [r[0] for r in con.execute(query, [table]).fetchall()]


def _optional(con: duckdb.DuckDBPyConnection, tables: set[str], table: str, query: str, params: dict):
    return con.sql(_sql(query), params=params).pl() if table in tables else None


def read_report_data(db_path: Path, month: str, schedule: Schedule, origin: str = DEFAULT_ORIGIN,
                     top: int = TOP_HS) -> ReportData:
    """Read the report's tables for `month` from the warehouse at `db_path` (read-only)."""
    if not Path(db_path).exists():
        raise ReportError(f"no warehouse at {db_path}")
    con = connect_warehouse(db_path)
    try:
        tables = set(con.sql(_sql("tables")).pl().get_column("table_name").to_list())
        if "fct_duty_by_hs_month" not in tables:
            raise ReportError(f"{db_path} has no fct_duty_by_hs_month table")
        totals = _month_totals(con, month)
        if not totals["line_count"]:
            raise ReportError(f"{db_path} holds no duty for {month}")
        params = {"month": month}
        by_program = con.sql(_sql("duty_by_program"), params=params).pl()
        rates = con.sql(_sql("effective_rate"), params={"month": month, "origin": origin}).pl()
        top_hs = con.sql(_sql("top_hs"), params={"month": month, "top": top}).pl()
        landed_cost = con.sql(_sql("landed_cost"), params=params).pl()
        fees_by_month = con.sql(_sql("fees_by_month"), params=params).pl()
        run_rows = _optional(con, tables, "runs", "run", params)
        run = run_rows.row(0, named=True) if run_rows is not None and run_rows.height else None
        scenarios = _optional(con, tables, "fct_scenario_duty_by_hs_month", "scenarios", params)
        scenario_trend = _optional(con, tables, "fct_scenario_duty_by_hs_month", "scenario_trend", params)
        rejects = None
        if run is not None:
            rejects = _optional(con, tables, "rejects", "rejects", {"run_id": run["run_id"]})
        reconciliation = _optional(con, tables, "fct_reconciliation", "reconciliation", params)
        refunds = _refunds(con, tables, month)
        line_facts = None
        if "export_date" in _columns(con, "fct_duty_lines"):
            line_facts = con.sql(_sql("line_facts"), params=params).pl()
    finally:
        con.close()
    first_month = by_program.get_column("month").min() if by_program.height else month
    events = policy_events(schedule, origin, month_start(first_month), month_end(month))
    return ReportData(
        month=month, origin=origin, totals=totals, by_program=by_program, rates=rates,
        top_hs=_with_descriptions(top_hs, schedule), landed_cost=landed_cost, fees_by_month=fees_by_month,
        policy_events=events, run=run, scenarios=scenarios, scenario_trend=scenario_trend, rejects=rejects,
        reconciliation=reconciliation, refunds=refunds, line_facts=line_facts,
    )
