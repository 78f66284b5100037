"""The monthly report: one self-contained HTML file per run month,
`<exports>/reports/YYYY-MM.html`, built from the published warehouse tables (read-only), and
the same summary as Markdown (the Prefect artifact).

Sections: the month's totals and landed cost; duty by program per month; the effective duty
rate of one origin's cars, parts, motorcycles (and trucks/buses) with the schedule's policy
dates as numbered markers and their table; the IEEPA refund ledger (duty paid, estimated
refund status, CAPE eligibility, estimated liquidation dates, top importers); MPF and HMF per
month; the top HS codes by duty with their USITC descriptions; the scenario comparison; the
reconciliation by status and likely cause; rejects; the run's warnings as one short list.

The pieces: `report_data` (queries in `sql/report_*.sql`), `report_charts` (Vega-Lite specs
as plain dicts), `report_tables` (tables and the Markdown), `report_html` (the page, with Vega,
Vega-Lite and Vega-Embed inlined from vl-convert: the file needs no network to view).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from flows.present.report_charts import chart_specs
from flows.present.report_data import (
    DEFAULT_ORIGIN,
    ReportData,
    ReportError,
    policy_events,
    read_report_data,
)
from flows.present.report_html import javascript_bundle, render_html
from flows.present.report_tables import Table, summary_markdown, summary_tables
from flows.warehouse.testing import fail_point
from transforms.schedule import Schedule

__all__ = [
    "DEFAULT_ORIGIN", "REPORTS_FOLDER", "ReportData", "ReportError", "ReportResult", "Table", "chart_specs",
    "javascript_bundle", "policy_events", "read_report_data", "render_html", "report_path", "summary_markdown",
    "summary_tables", "write_month_reports", "write_report", "StagedReports", "stage_reports",
]

REPORTS_FOLDER = "reports"


def report_path(exports_dir: Path, month: str) -> Path:
    return Path(exports_dir) / REPORTS_FOLDER / f"{month}.html"


@dataclass(frozen=True)
class ReportResult:
    month: str
    path: Path
    markdown: str
    charts: list[str]


def write_report(db_path: Path, exports_dir: Path, month: str, schedule: Schedule,
                 origin: str = DEFAULT_ORIGIN) -> ReportResult:
    """Build `<exports_dir>/reports/<month>.html` from the warehouse (written to a temporary
    file and renamed into place) and return its path and Markdown summary."""
    data = read_report_data(Path(db_path), month, schedule, origin)
    specs = chart_specs(data)
    page = render_html(data, specs)
    path = report_path(Path(exports_dir), month)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(page, encoding="utf-8")
    os.replace(temporary, path)
    return ReportResult(month=month, path=path, markdown=summary_markdown(data), charts=list(specs))


def write_month_reports(db_path: Path, exports_dir: Path, months: list[str], schedule_path: Path | None = None,
                        origin: str = DEFAULT_ORIGIN) -> tuple[list[ReportResult], list[str]]:
    """A report for each published month, after the run. Never raises: the months are
    already published, so a report that cannot be built is returned as a problem message."""
    from flows.inputs.schedule import read_schedule

    if not months:
        return [], []
    try:
        schedule = read_schedule(schedule_path)
    except Exception as error:  # the run read the same schedule; report why the reports are missing
        return [], [f"reports not written: cannot read the schedule: {error}"]
    reports, problems = [], []
    for month in months:
        try:
            reports.append(write_report(db_path, exports_dir, month, schedule, origin))
        except Exception as error:
            problems.append(f"report {month} not written: {type(error).__name__}: {error}")
    return reports, problems


@dataclass(frozen=True)
class StagedReports:
    """The reports a publish stages: the written ones (`path` in the staging folder) and, per
    month without one, why (its old report must then go: it would contradict the month)."""

    reports: list[ReportResult]
    problems: dict[str, str]


def stage_reports(db_path: Path, staging_dir: Path, months: list[str], schedule: Schedule,
                  origin: str = DEFAULT_ORIGIN) -> StagedReports:
    """The report of each month, read from the warehouse being published (the staging file,
    before its swap) into `<staging_dir>/reports/`, so that the reports are swapped in with
    the exports. Never raises for a month: its problem is returned instead."""
    reports, problems = [], {}
    for month in months:
        try:
            fail_point("report")
            reports.append(write_report(db_path, staging_dir, month, schedule, origin))
        except Exception as error:
            problems[month] = f"{type(error).__name__}: {error}"
    return StagedReports(reports, problems)
