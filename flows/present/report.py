"""The monthly report: one self-contained HTML file per run month,
`<exports>/reports/YYYY-MM.html`, built from the published warehouse tables (read-only), and
the same summary as Markdown (the Prefect artifact).

Sections: the month's totals; duty by program per month (stacked bars); the effective duty
rate over time for cars, parts, motorcycles (and trucks/buses) of one origin with the
schedule's policy dates marked; the top HS codes by duty; the scenario comparison
(fct_scenario_duty_by_hs_month); rejects and reconciliation summaries.

Charts are Vega-Lite specs built with Altair and drawn in the browser by Vega-Embed, whose
JavaScript (Vega, Vega-Lite, Vega-Embed) is inlined from the vl-convert package: the file
needs no network to view. Queries live in `sql/report_*.sql`.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

import altair as alt
import duckdb
import polars as pl

from flows import config
from transforms.scenario import ENACTED
from transforms.schedule import Schedule

REPORTS_FOLDER = "reports"
DEFAULT_ORIGIN = "JP"
TOP_HS = 10
PROGRAM_LABELS = {
    "mfn": "MFN",
    "section_232": "Section 232",
    "ieepa": "IEEPA reciprocal",
    "other": "Section 122 / 301",
}
PROGRAM_COLORS = ["#4c78a8", "#e45756", "#f58518", "#72b7b2"]
CATEGORY_ORDER = ["cars", "parts", "motorcycles", "trucks and buses"]


class ReportError(RuntimeError):
    """The report cannot be built (the warehouse lacks the month)."""


def report_path(exports_dir: Path, month: str) -> Path:
    return Path(exports_dir) / REPORTS_FOLDER / f"{month}.html"


def _sql(name: str) -> str:
    return resources.files("sql").joinpath(f"report_{name}.sql").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# data


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, read from the warehouse and the schedule."""

    month: str
    origin: str
    totals: dict
    by_program: pl.DataFrame
    rates: pl.DataFrame
    top_hs: pl.DataFrame
    policy_events: pl.DataFrame
    run: dict | None
    scenarios: pl.DataFrame | None
    scenario_trend: pl.DataFrame | None
    rejects: pl.DataFrame | None
    reconciliation: pl.DataFrame | None
    line_facts: pl.DataFrame | None = None  # the rules decided by the lines' own facts


def policy_events(schedule: Schedule, origin: str, first_day: dt.date, last_day: dt.date) -> pl.DataFrame:
    """The schedule's measure start and end dates that concern `origin` (its own measures and
    the all-origin ones) within [first_day, last_day]: one row per date, `label` naming what
    changes (e.g. `s232_autos starts (9903.94.01)`)."""
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
    )


def _month_start(month: str) -> dt.date:
    return dt.date.fromisoformat(f"{month}-01")


def _month_end(month: str) -> dt.date:
    start = _month_start(month)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def read_report_data(db_path: Path, month: str, schedule: Schedule, origin: str = DEFAULT_ORIGIN,
                     top: int = TOP_HS) -> ReportData:
    """Read the report's tables for `month` from the warehouse at `db_path` (read-only)."""
    if not Path(db_path).exists():
        raise ReportError(f"no warehouse at {db_path}")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = set(con.sql(_sql("tables")).pl().get_column("table_name").to_list())
        if "fct_duty_by_hs_month" not in tables:
            raise ReportError(f"{db_path} has no fct_duty_by_hs_month table")
        totals = con.execute(_sql("month_totals"), {"month": month}).fetchall()
        columns = [d[0] for d in con.description]
        totals = dict(zip(columns, totals[0], strict=True))
        if not totals["line_count"]:
            raise ReportError(f"{db_path} holds no duty for {month}")
        by_program = con.sql(_sql("duty_by_program"), params={"month": month}).pl()
        rates = con.sql(_sql("effective_rate"), params={"month": month, "origin": origin}).pl()
        top_hs = con.sql(_sql("top_hs"), params={"month": month, "top": top}).pl()
        run_rows = con.sql(_sql("run"), params={"month": month}).pl() if "runs" in tables else pl.DataFrame()
        run = run_rows.row(0, named=True) if run_rows.height else None
        scenarios = scenario_trend = None
        if "fct_scenario_duty_by_hs_month" in tables:
            scenarios = con.sql(_sql("scenarios"), params={"month": month}).pl()
            scenario_trend = con.sql(_sql("scenario_trend"), params={"month": month}).pl()
        rejects = None
        if "rejects" in tables and run is not None:
            rejects = con.sql(_sql("rejects"), params={"run_id": run["run_id"]}).pl()
        reconciliation = None
        if "fct_reconciliation" in tables:
            reconciliation = con.sql(_sql("reconciliation"), params={"month": month}).pl()
        line_facts = None
        if "export_date" in _columns(con, "fct_duty_lines"):
            line_facts = con.sql(_sql("line_facts"), params={"month": month}).pl()
    finally:
        con.close()
    first_month = by_program.get_column("month").min() if by_program.height else month
    events = policy_events(schedule, origin, _month_start(first_month), _month_end(month))
    return ReportData(month, origin, totals, by_program, rates, top_hs, events, run, scenarios,
                      scenario_trend, rejects, reconciliation, line_facts)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of `table` (none if the warehouse predates it)."""
    return [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()]


# --------------------------------------------------------------------------------------------
# charts (Vega-Lite specs via Altair)


def _with_month_date(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(month_start=(pl.col("month") + pl.lit("-01")))


def _floats(frame: pl.DataFrame) -> pl.DataFrame:
    """Money as float for drawing only (the tables show the exact decimals)."""
    return frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))


def _month_axis() -> alt.X:
    """Months on a UTC time axis (dates are UTC midnights), one labelled tick per month."""
    return alt.X(
        "utcyearmonth(month_start):T",
        title="month of entry",
        axis=alt.Axis(format="%b %Y", tickCount={"interval": "month", "step": 1}, labelAngle=-40),
    )


def chart_specs(data: ReportData) -> dict[str, dict]:
    """Chart id → Vega-Lite spec (a dict). Charts without data are left out."""
    specs: dict[str, dict] = {}
    if data.by_program.height:
        frame = _floats(_with_month_date(data.by_program)).with_columns(
            program=pl.col("program").replace_strict(PROGRAM_LABELS, default=pl.col("program"))
        )
        specs["duty_by_program"] = (
            alt.Chart(frame, title="Duty by program per month (USD)")
            .mark_bar()
            .encode(
                x=alt.X("month:O", title="month of entry"),
                y=alt.Y("sum(duty_usd):Q", title="duty (USD)", stack="zero"),
                color=alt.Color("program:N", scale=alt.Scale(domain=list(PROGRAM_LABELS.values()), range=PROGRAM_COLORS),
                                title="program"),
                order=alt.Order("program:N"),
                tooltip=[alt.Tooltip("month:N"), alt.Tooltip("program:N"), alt.Tooltip("duty_usd:Q", format="$,.2f")],
            )
            .properties(width=760, height=300)
            .to_dict()
        )
    if data.rates.height:
        frame = _floats(_with_month_date(data.rates))
        lines = (
            alt.Chart(frame)
            .mark_line(point=True)
            .encode(
                x=_month_axis(),
                y=alt.Y("effective_duty_rate:Q", title="effective duty rate", axis=alt.Axis(format="%")),
                color=alt.Color("category:N", sort=CATEGORY_ORDER, title="category"),
                tooltip=[alt.Tooltip("month:N"), alt.Tooltip("category:N"),
                         alt.Tooltip("effective_duty_rate:Q", format=".2%"),
                         alt.Tooltip("total_duty_usd:Q", format="$,.2f")],
            )
        )
        layers = [lines]
        if data.policy_events.height:
            events = data.policy_events.with_columns(
                day=pl.col("date").cast(pl.Utf8), date=pl.col("date").cast(pl.Utf8)
            )
            rules = alt.Chart(events).mark_rule(color="#888", strokeDash=[4, 3]).encode(
                x=alt.X("utcyearmonthdate(date):T"),
                tooltip=[alt.Tooltip("day:N", title="policy date"), alt.Tooltip("label:N", title="change")],
            )
            layers.append(rules)
        specs["effective_rate"] = (
            alt.layer(*layers, title=f"Effective duty rate, origin {data.origin} (dashed: policy dates of the schedule)")
            .properties(width=760, height=300)
            .to_dict()
        )
    if data.top_hs.height:
        frame = _floats(data.top_hs)
        specs["top_hs"] = (
            alt.Chart(frame, title=f"Top {frame.height} HS codes by duty, {data.month}")
            .mark_bar(color="#4c78a8")
            .encode(
                y=alt.Y("hts_code:N", sort="-x", title="HTS code"),
                x=alt.X("total_duty_usd:Q", title="duty (USD)"),
                tooltip=[alt.Tooltip("hts_code:N"), alt.Tooltip("total_duty_usd:Q", format="$,.2f"),
                         alt.Tooltip("customs_value_usd:Q", format="$,.2f"),
                         alt.Tooltip("effective_duty_rate:Q", format=".2%"), alt.Tooltip("line_count:Q")],
            )
            .properties(width=760, height=24 * frame.height)
            .to_dict()
        )
    if data.scenarios is not None and data.scenarios.height:
        frame = _floats(data.scenarios)
        order = frame.get_column("scenario").to_list()
        specs["scenarios"] = (
            alt.Chart(frame, title=f"Duty under each scenario, {data.month} (USD)")
            .mark_bar()
            .encode(
                y=alt.Y("scenario:N", sort=order, title=None),
                x=alt.X("total_duty_usd:Q", title="total duty (USD)"),
                color=alt.condition(alt.datum.scenario == ENACTED, alt.value("#4c78a8"), alt.value("#bab0ac")),
                tooltip=[alt.Tooltip("scenario:N"), alt.Tooltip("total_duty_usd:Q", format="$,.2f"),
                         alt.Tooltip("delta_vs_enacted_usd:Q", format="+$,.2f", title="vs as enacted"),
                         alt.Tooltip("effective_duty_rate:Q", format=".2%")],
            )
            .properties(width=760, height=36 * frame.height)
            .to_dict()
        )
    if data.scenario_trend is not None and data.scenario_trend.height and data.scenario_trend.get_column("scenario").n_unique() > 1:
        frame = _floats(_with_month_date(data.scenario_trend))
        specs["scenario_trend"] = (
            alt.Chart(frame, title="Total duty per month under each scenario (USD)")
            .mark_line(point=True)
            .encode(
                x=_month_axis(),
                y=alt.Y("total_duty_usd:Q", title="total duty (USD)"),
                color=alt.Color("scenario:N", title="scenario"),
                strokeDash=alt.condition(alt.datum.scenario == ENACTED, alt.value([1, 0]), alt.value([5, 3])),
                tooltip=[alt.Tooltip("month:N"), alt.Tooltip("scenario:N"), alt.Tooltip("total_duty_usd:Q", format="$,.2f")],
            )
            .properties(width=760, height=260)
            .to_dict()
        )
    return specs


# --------------------------------------------------------------------------------------------
# formatting


def _money(value) -> str:
    if value is None:
        return "–"
    return f"${Decimal(value):,.2f}"


def _signed_money(value) -> str:
    if value is None:
        return "–"
    value = Decimal(value)
    return ("+" if value > 0 else "−" if value < 0 else "±") + f"${abs(value):,.2f}"


def _percent(value) -> str:
    return "–" if value is None else f"{float(value):.2%}"


def _rate(duty, value) -> float | None:
    return float(Decimal(duty) / Decimal(value)) if value else None


def _json_list(text: str | None) -> list:
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return [text]
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Table:
    """A small table for both the HTML page and the Markdown summary (cells are text)."""

    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""


def summary_tables(data: ReportData) -> list[Table]:
    """The report's tables, in page order."""
    t = data.totals
    tables = [
        Table(
            f"Totals, {data.month}",
            ["measure", "amount"],
            [
                ["customs lines", f"{int(t['line_count']):,}"],
                ["customs value", _money(t["customs_value_usd"])],
                *[[f"duty: {label}", _money(t[f"{program}_duty_usd"])] for program, label in PROGRAM_LABELS.items()],
                ["total duty", _money(t["total_duty_usd"])],
                ["effective duty rate", _percent(_rate(t["total_duty_usd"], t["customs_value_usd"]))],
                ["fees (MPF + HMF)", _money(Decimal(t["mpf_usd"]) + Decimal(t["hmf_usd"]))],
                ["total cost (duty + fees)", _money(t["total_cost_usd"])],
            ],
        )
    ]
    if data.scenarios is not None and data.scenarios.height:
        tables.append(Table(
            f"Scenarios, {data.month}",
            ["scenario", "total duty", "vs as enacted", "effective rate", "Section 232", "IEEPA", "Section 122 / 301"],
            [
                [r["scenario"], _money(r["total_duty_usd"]), _signed_money(r["delta_vs_enacted_usd"]),
                 _percent(r["effective_duty_rate"]), _money(r["section_232_duty_usd"]), _money(r["ieepa_duty_usd"]),
                 _money(r["other_duty_usd"])]
                for r in data.scenarios.iter_rows(named=True)
            ],
            note="" if data.scenarios.height > 1 else "Run with --scenario NAME (e.g. no_japan_deal, pre_2025, ieepa_upheld) to compare alternatives.",
        ))
    if data.top_hs.height:
        tables.append(Table(
            f"Top HS codes by duty, {data.month}",
            ["HTS code", "lines", "customs value", "duty", "effective rate"],
            [
                [r["hts_code"], f"{int(r['line_count']):,}", _money(r["customs_value_usd"]), _money(r["total_duty_usd"]),
                 _percent(r["effective_duty_rate"])]
                for r in data.top_hs.iter_rows(named=True)
            ],
        ))
    run = data.run
    if run is not None:
        rejected = data.rejects if data.rejects is not None else pl.DataFrame()
        tables.append(Table(
            "Rejected input rows",
            ["source", "column", "check", "rows", "first row", "example value"],
            [
                [r["source"], r["column"], r["check"], f"{int(r['rows_rejected']):,}", str(r["first_row"]),
                 "" if r["example_value"] is None else str(r["example_value"])]
                for r in rejected.iter_rows(named=True)
            ],
            note=f"{int(run['rows_rejected'] or 0):,} of {int(run['rows_in'] or 0):,} input rows rejected in run {run['run_id']}"
            + ("" if rejected.height else " (none)."),
        ))
    if data.reconciliation is not None and data.reconciliation.height:
        tables.append(Table(
            f"Reconciliation of declared and computed duty, {data.month}",
            ["status", "lines", "declared duty", "computed duty", "computed − declared"],
            [
                [r["status"], f"{int(r['line_count']):,}", _money(r["declared_duty_usd"]), _money(r["computed_duty_usd"]),
                 _signed_money(r["difference_usd"])]
                for r in data.reconciliation.iter_rows(named=True)
            ],
        ))
    if data.line_facts is not None and data.line_facts.height:
        tables.append(Table(
            f"Rules decided by the lines' own facts, {data.month}",
            ["line fact / rule", "lines", "customs value", "duty"],
            [
                [r["fact"], f"{int(r['line_count']):,}", _money(r["customs_value_usd"]), _money(r["total_duty_usd"])]
                for r in data.line_facts.iter_rows(named=True)
            ],
            note="Optional input columns export_date, steel/aluminum_content_value_usd and declared_headings "
            "(docs/tariff-rules.md, 'Rules decided by a line's own facts').",
        ))
    if data.policy_events.height:
        tables.append(Table(
            f"Policy dates marked on the rate chart (origin {data.origin} and all origins)",
            ["date", "change"],
            [[str(r["date"]), r["label"]] for r in data.policy_events.iter_rows(named=True)],
        ))
    return tables


def _run_lines(data: ReportData) -> list[str]:
    run = data.run
    if run is None:
        return ["No successful run of this month is recorded in `runs`."]
    lines = [
        f"Run `{run['run_id']}`, finished {run['finished_at']} UTC; schedule {run['schedule_version']}"
        f" ({run['schedule_source']}); scenarios: {', '.join(_json_list(run['scenarios'])) or 'none'}."
    ]
    lines += [f"Warning: {w}" for w in _json_list(run["warnings"])]
    return lines


def summary_markdown(data: ReportData) -> str:
    """The report's summary as Markdown (the Prefect artifact): the same tables, no charts."""
    out = [f"# tariffcost report {data.month}", ""]
    out += [f"- {line}" for line in _run_lines(data)] + [""]
    for table in summary_tables(data):
        out += [f"## {table.title}", ""]
        if table.note:
            out += [table.note, ""]
        if table.rows:
            out.append("| " + " | ".join(table.header) + " |")
            out.append("|" + "---|" * len(table.header))
            out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table.rows]
            out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# HTML

_CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 980px; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
p.meta { color: #555; font-size: 0.9em; margin: 0.2em 0; } p.warn { color: #8a4b00; font-size: 0.9em; margin: 0.2em 0; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.6em 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 10px; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.kpis { display: flex; gap: 14px; flex-wrap: wrap; margin: 14px 0; }
.kpi { background: #f4f6f9; border-radius: 6px; padding: 10px 16px; min-width: 150px; }
.kpi b { display: block; font-size: 1.35em; } .kpi span { color: #555; font-size: 0.85em; }
.chart { margin: 10px 0 4px 0; } .chart-error { color: #b00; }
"""


_NUMERIC = re.compile(r"^[+−±]?\$?[\d,]+(\.\d+)?%?$")


def _is_numeric(cell: str) -> bool:
    return bool(_NUMERIC.match(cell))


def _html_table(table: Table) -> str:
    parts = [f"<h2>{html.escape(table.title)}</h2>"]
    if table.note:
        parts.append(f'<p class="meta">{html.escape(table.note)}</p>')
    if table.rows:
        parts.append("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in table.header) + "</tr></thead><tbody>")
        for row in table.rows:
            cells = "".join(
                f'<td class="num">{html.escape(c)}</td>' if _is_numeric(c) else f"<td>{html.escape(c)}</td>" for c in row
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
    return "\n".join(parts)


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")


def _javascript_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script. Building it takes vl-convert about 1.5 s,
    so it is cached per vl-convert version in flows.config.cache_dir() (written to a temporary
    file, then renamed: a concurrent run never reads half a file); an unwritable cache only
    costs the rebuild."""
    import vl_convert

    version = re.sub(r"[^0-9A-Za-z.]", "_", getattr(vl_convert, "__version__", "unknown"))
    cached = config.cache_dir() / f"vl_convert-{version}-bundle.js"
    try:
        return cached.read_text(encoding="utf-8")
    except OSError:
        pass
    bundle = vl_convert.javascript_bundle().replace("</script", "<\\/script")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        partial.write_text(bundle, encoding="utf-8")
        os.replace(partial, cached)
    except OSError:
        pass
    return bundle


_EMBED = """
const specs = JSON.parse(document.getElementById("chart-specs").textContent);
const ids = Object.keys(specs);
Promise.all(ids.map((id) => vegaEmbed("#chart-" + id, specs[id], {renderer: "svg", actions: false})
  .catch((error) => { const el = document.getElementById("chart-" + id);
    el.classList.add("chart-error"); el.textContent = "chart failed to draw: " + error; throw error; })))
  .then(() => { document.body.dataset.chartsDrawn = String(ids.length); })
  .catch(() => { document.body.dataset.chartsDrawn = "error"; });
"""


def render_html(data: ReportData, specs: dict[str, dict]) -> str:
    """The complete page: inline CSS, inline Vega bundle, specs as JSON, no external URL."""
    t = data.totals
    kpis = [
        ("total duty", _money(t["total_duty_usd"])),
        ("effective duty rate", _percent(_rate(t["total_duty_usd"], t["customs_value_usd"]))),
        ("customs value", _money(t["customs_value_usd"])),
        ("customs lines", f"{int(t['line_count']):,}"),
    ]
    if data.scenarios is not None:
        for r in data.scenarios.iter_rows(named=True):
            if r["scenario"] != ENACTED:
                kpis.append((f"{r['scenario']} vs as enacted", _signed_money(r["delta_vs_enacted_usd"])))
    body = [
        f"<h1>tariffcost report {html.escape(data.month)}</h1>",
        *[f'<p class="{"warn" if line.startswith("Warning") else "meta"}">{html.escape(line)}</p>' for line in _run_lines(data)],
        '<div class="kpis">' + "".join(f"<div class=\"kpi\"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>" for k, v in kpis) + "</div>",
    ]
    tables = {table.title.split(",")[0]: table for table in summary_tables(data)}
    sections = [
        ("duty_by_program", None),
        ("effective_rate", "Policy dates marked on the rate chart (origin"),
        ("scenarios", "Scenarios"),
        ("scenario_trend", None),
        ("top_hs", "Top HS codes by duty"),
    ]
    used = {"Totals"}
    for chart_id, table_key in sections:
        if chart_id in specs:
            body.append(f'<div class="chart" id="chart-{chart_id}"></div>')
        if table_key:
            key = next((k for k in tables if k.startswith(table_key)), None)
            if key:
                body.append(_html_table(tables[key]))
                used.add(key)
    body += [_html_table(table) for key, table in tables.items() if key not in used]
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>tariffcost report {html.escape(data.month)}</title>",
        f"<style>{_CSS}</style>",
        f"<script>{_javascript_bundle()}</script>",
        "</head><body>",
        *body,
        f'<script type="application/json" id="chart-specs">{_script_json(specs)}</script>',
        f"<script>{_EMBED}</script>",
        f'<p class="meta">Generated {dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")} UTC by tariffcost; '
        f"charts: Vega-Lite {html.escape(alt.SCHEMA_VERSION)} (Altair {html.escape(alt.__version__)}), inlined.</p>",
        "</body></html>",
    ])


# --------------------------------------------------------------------------------------------
# the entry point


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
