"""The report's tables (cells as text, money exact from the Decimal columns) and its Markdown
summary (the Prefect artifact). Each table belongs to a page section (`Table.section`); the
HTML page (flows/present/report_html.py) places it under that section's charts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from flows import config
from flows.present.markdown import escape
from flows.present.report_charts import PROGRAM_LABELS, format_hts, refund_status_label
from flows.present.report_data import ReportData

WARNING_SHORT_CHARS = 110


def money(value) -> str:
    if value is None:
        return "–"
    return f"${Decimal(value):,.2f}"


def signed_money(value) -> str:
    if value is None:
        return "–"
    value = Decimal(value)
    return ("+" if value > 0 else "−" if value < 0 else "±") + f"${abs(value):,.2f}"


def percent(value) -> str:
    return "–" if value is None else f"{float(value):.2%}"


def rate(duty, value) -> float | None:
    return float(Decimal(duty) / Decimal(value)) if value else None


def count(value) -> str:
    return f"{int(value or 0):,}"


def json_list(text: str | None) -> list:
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return [text]
    return value if isinstance(value, list) else [value]


def short_warning(text: str) -> str:
    """A warning in one short line: what it is about (the text before its first parenthesis)
    and how many lines it concerns (its `used by …` tail), e.g. `UNCONFIRMED measure
    s301_jp_2026: used by 635 lines in 318 entries`."""
    head = text.split(" (", 1)[0]
    used = re.search(r"used by [^;()]*$", text)
    short = f"{head}: {used.group(0)}" if used and "used by" not in head else head
    return short if len(short) <= WARNING_SHORT_CHARS else short[: WARNING_SHORT_CHARS - 1].rstrip() + "…"


def landed_cost(totals: dict) -> Decimal:
    """Customs value + duty + MPF + HMF (exact)."""
    return sum((Decimal(totals[c]) for c in ("customs_value_usd", "total_duty_usd", "mpf_usd", "hmf_usd")), Decimal(0))


@dataclass(frozen=True)
class Table:
    """A small table for both the HTML page and the Markdown summary (cells are text)."""

    section: str
    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""


def totals_table(data: ReportData) -> Table:
    t = data.totals
    return Table("duty", f"Totals, {data.month}", ["measure", "amount"], [
        ["customs lines", count(t["line_count"])],
        ["customs value", money(t["customs_value_usd"])],
        *[[f"duty: {label}", money(t[f"{program}_duty_usd"])] for program, label in PROGRAM_LABELS.items()],
        ["total duty", money(t["total_duty_usd"])],
        ["effective duty rate", percent(rate(t["total_duty_usd"], t["customs_value_usd"]))],
        ["MPF", money(t["mpf_usd"])],
        ["HMF", money(t["hmf_usd"])],
        ["total cost (duty + fees)", money(t["total_cost_usd"])],
        ["landed cost (value + duty + fees)", money(landed_cost(t))],
    ])


def landed_cost_table(data: ReportData) -> Table:
    return Table(
        "landed_cost", f"Landed cost by product, {data.month}",
        ["product", "lines", "customs value", "duty", "MPF", "HMF", "landed cost", "landed ÷ value"],
        [[r["category"], count(r["line_count"]), money(r["customs_value_usd"]), money(r["total_duty_usd"]),
          money(r["mpf_usd"]), money(r["hmf_usd"]), money(r["landed_cost_usd"]),
          percent(rate(r["landed_cost_usd"], r["customs_value_usd"]))]
         for r in data.landed_cost.iter_rows(named=True)],
        note="Landed cost = customs value + duty + MPF + HMF (freight and insurance are not in the entry value).",
    )


def refund_tables(data: ReportData) -> list[Table]:
    refunds = data.refunds
    if refunds is None or not refunds.by_status.height:
        return []
    status = Table(
        "refunds", f"IEEPA refund ledger, entry months to {data.month}",
        ["estimated status", "CAPE eligible", "entries", "lines", "IEEPA duty paid", f"of which {data.month}",
         "declared IEEPA duty", "est. liquidation from", "est. liquidation to"],
        [[refund_status_label(r["refund_status"]), "yes" if r["cape_eligible"] else "no", count(r["entry_count"]),
          count(r["line_count"]), money(r["ieepa_duty_usd"]), money(r["month_ieepa_duty_usd"] or 0),
          money(r["declared_ieepa_duty_usd"]), str(r["first_liquidation_date"]), str(r["last_liquidation_date"])]
         for r in refunds.by_status.iter_rows(named=True)],
        note=_refund_note(refunds.by_status),
    )
    importers = Table(
        "refunds", f"Importers with the most IEEPA duty, entry months to {data.month}",
        ["importer", "entries", "IEEPA duty paid", "CAPE eligible", "declared IEEPA duty", "entry months"],
        [[r["importer_id"], count(r["entry_count"]), money(r["ieepa_duty_usd"]),
          money(r["cape_eligible_ieepa_duty_usd"]), money(r["declared_ieepa_duty_usd"]),
          f"{r['first_month']} to {r['last_month']}"]
         for r in refunds.importers.iter_rows(named=True)],
    )
    return [status] + ([importers] if importers.rows else [])


def cape_eligible_duty(by_status: pl.DataFrame) -> Decimal:
    """The IEEPA duty of the refund statuses estimated within CAPE (exact sum)."""
    return sum(by_status.filter(pl.col("cape_eligible")).get_column("ieepa_duty_usd").to_list(), Decimal(0))


def _refund_note(by_status: pl.DataFrame) -> str:
    paid = sum(by_status.get_column("ieepa_duty_usd").to_list(), Decimal(0))
    eligible = cape_eligible_duty(by_status)
    return (f"IEEPA duty paid {money(paid)}, of which {money(eligible)} estimated refundable through CAPE. "
            "Status and liquidation dates are estimates from the entry date (fct_ieepa_refunds): "
            "confirm each entry's liquidation in ACE before filing.")


def scenario_table(data: ReportData) -> list[Table]:
    if data.scenarios is None or not data.scenarios.height:
        return []
    return [Table(
        "scenarios", f"Scenarios, {data.month}",
        ["scenario", "total duty", "vs as enacted", "effective rate", "Section 232", "IEEPA", "Section 122 / 301"],
        [[r["scenario"], money(r["total_duty_usd"]), signed_money(r["delta_vs_enacted_usd"]),
          percent(r["effective_duty_rate"]), money(r["section_232_duty_usd"]), money(r["ieepa_duty_usd"]),
          money(r["other_duty_usd"])]
         for r in data.scenarios.iter_rows(named=True)],
        note="" if data.scenarios.height > 1 else
        "Run with --scenario NAME (e.g. no_japan_deal, pre_2025, ieepa_upheld) to compare alternatives.",
    )]


def top_hs_table(data: ReportData) -> list[Table]:
    if not data.top_hs.height:
        return []
    return [Table(
        "top_hs", f"Top HS codes by duty, {data.month}",
        ["HTS code", "description (USITC tariff database)", "lines", "customs value", "duty", "effective rate"],
        [[format_hts(r["hts_code"]), r["description"] or "–", count(r["line_count"]), money(r["customs_value_usd"]),
          money(r["total_duty_usd"]), percent(r["effective_duty_rate"])]
         for r in data.top_hs.iter_rows(named=True)],
    )]


def reconciliation_table(data: ReportData) -> list[Table]:
    if data.reconciliation is None or not data.reconciliation.height:
        return []
    return [Table(
        "reconciliation", f"Reconciliation of declared and computed duty, {data.month}",
        ["status", "likely cause", "lines", "declared duty", "computed duty", "computed − declared"],
        [[r["status"], r["likely_cause"] or ("–" if r["status"] == "match" else "not recognised"),
          count(r["line_count"]), money(r["declared_duty_usd"]), money(r["computed_duty_usd"]),
          signed_money(r["difference_usd"])]
         for r in data.reconciliation.iter_rows(named=True)],
    )]


def line_facts_table(data: ReportData) -> list[Table]:
    if data.line_facts is None or not data.line_facts.height:
        return []
    return [Table(
        "line_facts", f"Rules decided by the lines' own facts, {data.month}",
        ["line fact / rule", "lines", "customs value", "duty"],
        [[r["fact"], count(r["line_count"]), money(r["customs_value_usd"]), money(r["total_duty_usd"])]
         for r in data.line_facts.iter_rows(named=True)],
        note="Optional input columns export_date, steel/aluminum_content_value_usd and declared_headings "
        "(docs/tariff-rules.md, 'Rules decided by a line's own facts').",
    )]


def rejects_table(data: ReportData) -> list[Table]:
    run = data.run
    if run is None:
        return []
    rejected = data.rejects if data.rejects is not None else pl.DataFrame()
    return [Table(
        "rejects", "Rejected input rows",
        ["source", "column", "check", "rows", "first row", "example value"],
        [[r["source"], r["column"], r["check"], count(r["rows_rejected"]), str(r["first_row"]),
          "" if r["example_value"] is None else str(r["example_value"])]
         for r in rejected.iter_rows(named=True)],
        note=f"{count(run['rows_rejected'])} of {count(run['rows_in'])} input rows rejected in run {run['run_id']}"
        + ("" if rejected.height else " (none)."),
    )]


def policy_table(data: ReportData) -> list[Table]:
    if not data.policy_events.height:
        return []
    return [Table(
        "effective_rate", f"Policy dates numbered on the rate chart (origin {data.origin} and all origins)",
        ["#", "date", "change"],
        [[str(r["number"]), str(r["date"]), r["label"]] for r in data.policy_events.iter_rows(named=True)],
    )]


def summary_tables(data: ReportData) -> list[Table]:
    """The report's tables, in page order."""
    return [
        totals_table(data), *refund_tables(data), *policy_table(data), landed_cost_table(data), *top_hs_table(data),
        *scenario_table(data), *reconciliation_table(data), *line_facts_table(data), *rejects_table(data),
    ]


def _display_path(source: str | None) -> str:
    """A path inside the repository relative to it (`data/schedule/default/schedule.toml`)."""
    try:
        return str(Path(source).resolve().relative_to(config.REPO_ROOT))
    except (TypeError, ValueError, OSError):
        return str(source)


def run_line(data: ReportData) -> str:
    run = data.run
    if run is None:
        return "No successful run of this month is recorded in `runs`."
    finished = run["finished_at"]
    finished = finished.strftime("%Y-%m-%d %H:%M") if hasattr(finished, "strftime") else finished
    scenarios = ", ".join(json_list(run["scenarios"])) or "none"
    return (f"Run {run['run_id']}, finished {finished} UTC; schedule {run['schedule_version']}"
            f" ({_display_path(run['schedule_source'])}); scenarios: {scenarios}.")


def warnings(data: ReportData) -> list[str]:
    """The run's warnings in full (the page shows `short_warning` of each, the full text on demand)."""
    return [] if data.run is None else [str(w) for w in json_list(data.run["warnings"])]


def summary_markdown(data: ReportData) -> str:
    """The report's summary as Markdown (the Prefect artifact): the same tables, no charts, the
    warnings as one short list at the end."""
    # every piece of text may hold input data (file names, values, warnings): escaped
    out = [f"# tariffcost report {data.month}", "", escape(run_line(data)), ""]
    for table in summary_tables(data):
        out += [f"## {escape(table.title)}", ""]
        if table.note:
            out += [escape(table.note), ""]
        if table.rows:
            out.append("| " + " | ".join(escape(h) for h in table.header) + " |")
            out.append("|" + "---|" * len(table.header))
            out += ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in table.rows]
            out.append("")
    found = warnings(data)
    if found:
        out += [f"## Warnings ({len(found)})", ""] + [f"- {escape(short_warning(w))}" for w in found] + [""]
    return "\n".join(out)
