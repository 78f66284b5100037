"""The report page: one self-contained HTML file (inline CSS, the Vega bundle inlined from
vl-convert, chart specs as JSON, no external URL). Sections in page order, each a
`<section id="…">` holding its charts and then its tables; the run's warnings come last as
one short list (each expandable to its full text)."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re

from flows import config
from flows.present.report_data import ReportData
from flows.present.report_tables import (
    Table,
    cape_eligible_duty,
    landed_cost,
    money,
    percent,
    rate,
    run_line,
    short_warning,
    summary_tables,
    warnings,
)
from flows.present.vega import VEGA_LITE_VERSION

# section id → (heading, chart ids in order); tables join their section by Table.section
SECTIONS: list[tuple[str, str, list[str]]] = [
    ("duty", "Duty by program", ["duty_by_program"]),
    ("refunds", "IEEPA refunds", ["refunds"]),
    ("effective_rate", "Effective duty rate and policy dates", ["effective_rate"]),
    ("landed_cost", "Fees and landed cost", ["fees"]),
    ("top_hs", "Top HS codes", ["top_hs"]),
    ("scenarios", "What-if scenarios", ["scenarios", "scenario_trend"]),
    ("reconciliation", "Reconciliation", []),
    ("line_facts", "Rules decided by the lines' own facts", []),
    ("rejects", "Rejected input rows", []),
]

_CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 980px; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 2px solid #ccd; }
h3 { font-size: 1.0em; margin: 1.0em 0 0.2em 0; }
p.meta { color: #555; font-size: 0.9em; margin: 0.2em 0; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.4em 0 0.8em 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 8px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.kpis { display: flex; gap: 12px; flex-wrap: wrap; margin: 14px 0; }
.kpi { background: #f4f6f9; border-radius: 6px; padding: 10px 14px; min-width: 140px; }
.kpi b { display: block; font-size: 1.3em; } .kpi span { color: #555; font-size: 0.85em; }
.chart { margin: 10px 0 4px 0; } .chart-error { color: #b00; }
ul.warnings { font-size: 0.85em; color: #6b3d00; padding-left: 1.2em; } ul.warnings li { margin: 2px 0; }
ul.warnings details p { color: #444; margin: 2px 0 6px 0; }
"""

_NUMERIC = re.compile(r"^[+−±]?\$?[\d,]+(\.\d+)?%?$")


def _is_numeric(cell: str) -> bool:
    return bool(_NUMERIC.match(cell))


def html_table(table: Table, titled: bool = True) -> str:
    parts = [f"<h3>{html.escape(table.title)}</h3>"] if titled else []
    if table.note:
        parts.append(f'<p class="meta">{html.escape(table.note)}</p>')
    if table.rows:
        header = "".join(f"<th>{html.escape(h)}</th>" for h in table.header)
        parts.append(f"<table><thead><tr>{header}</tr></thead><tbody>")
        for row in table.rows:
            cells = "".join(
                f'<td class="num">{html.escape(c)}</td>' if _is_numeric(c) else f"<td>{html.escape(c)}</td>"
                for c in row
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
    return "\n".join(parts)


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")


def javascript_bundle() -> str:
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


def _kpis(data: ReportData) -> str:
    t = data.totals
    kpis = [
        ("total duty", money(t["total_duty_usd"])),
        ("effective duty rate", percent(rate(t["total_duty_usd"], t["customs_value_usd"]))),
        ("customs value", money(t["customs_value_usd"])),
        ("MPF + HMF", money(t["mpf_usd"] + t["hmf_usd"])),
        ("landed cost (value + duty + fees)", money(landed_cost(t))),
    ]
    if data.refunds is not None and data.refunds.by_status.height:
        kpis.append((f"IEEPA refundable via CAPE, to {data.month}", money(cape_eligible_duty(data.refunds.by_status))))
    tiles = "".join(f'<div class="kpi"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>' for k, v in kpis)
    return f'<div class="kpis">{tiles}</div>'


def _warnings_section(data: ReportData) -> list[str]:
    found = warnings(data)
    if not found:
        return []
    items = "".join(
        f"<li><details><summary>{html.escape(short_warning(w))}</summary><p>{html.escape(w)}</p></details></li>"
        for w in found
    )
    return [f'<section id="warnings"><h2>Warnings ({len(found)})</h2><ul class="warnings">{items}</ul></section>']


def _sections(data: ReportData, specs: dict[str, dict]) -> list[str]:
    tables = summary_tables(data)
    body = []
    for section_id, heading, charts in SECTIONS:
        drawn = [c for c in charts if c in specs]
        own = [t for t in tables if t.section == section_id]
        if not drawn and not own:
            continue
        body.append(f'<section id="{section_id}"><h2>{html.escape(heading)}</h2>')
        body += [f'<div class="chart" id="chart-{c}"></div>' for c in drawn]
        body += [html_table(t, titled=t.title != heading) for t in own]
        body.append("</section>")
    return body


def render_html(data: ReportData, specs: dict[str, dict]) -> str:
    """The complete page: inline CSS, inline Vega bundle, specs as JSON, no external URL."""
    found = warnings(data)
    meta = html.escape(run_line(data))
    if found:
        meta += f' <a href="#warnings">{len(found)} warning{"s" if len(found) != 1 else ""}</a> at the end.'
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>tariffcost report {html.escape(data.month)}</title>",
        f"<style>{_CSS}</style>",
        f"<script>{javascript_bundle()}</script>",
        "</head><body>",
        f"<h1>tariffcost report {html.escape(data.month)}</h1>",
        f'<p class="meta">{meta}</p>',
        _kpis(data),
        *_sections(data, specs),
        *_warnings_section(data),
        f'<script type="application/json" id="chart-specs">{_script_json(specs)}</script>',
        f"<script>{_EMBED}</script>",
        f'<p class="meta">Generated {dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")} UTC by tariffcost; '
        f"charts: Vega-Lite {html.escape(VEGA_LITE_VERSION)}, inlined.</p>",
        "</body></html>",
    ])
