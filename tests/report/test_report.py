"""flows/present/report.py on a small published warehouse: the file is self-contained, the chart data
and the summary tables hold the hand-computed sums (duty, fees and landed cost, the IEEPA refund
ledger, the reconciliation with its likely cause), policy dates come from the schedule and are
numbered in lanes that never overlap, money axes are abbreviated, warnings are one short list."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.present.report import policy_events, read_report_data, report_path, write_month_reports, write_report
from flows.present.report_charts import MARKER_CHAR_PX, MARKER_GAP_PX, chart_specs, marker_lanes, money_unit
from flows.present.report_tables import short_warning
from tests.engine.tiny_schedule import measure, tiny_schedule

CHARTS = ["duty_by_program", "effective_rate", "refunds", "fees", "top_hs", "scenarios", "scenario_trend"]


@pytest.fixture(scope="module")
def report(warehouse, schedule):
    db, exports = warehouse
    return write_report(db, exports, "2025-10", schedule)


def _specs(html: str) -> dict:
    text = re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html, re.S).group(1)
    return json.loads(text.replace("<\\/", "</"))


def _rows(spec: dict) -> list[dict]:
    return [row for values in spec.get("datasets", {}).values() for row in values]


def test_report_file_is_self_contained(report, warehouse):
    _db, exports = warehouse
    assert report.path == report_path(exports, "2025-10") == exports / "reports" / "2025-10.html"
    html = report.path.read_text(encoding="utf-8")
    markup = re.sub(r"(<script[^>]*>).*?(</script>)", r"\1\2", html, flags=re.S)
    assert not re.search(r"<(script|img|iframe)[^>]+src=|<link[^>]+href=", markup, re.I)
    assert markup.count("<script") == 3  # the bundle, the specs, the embedding code
    specs = _specs(html)
    assert all("url" not in json.dumps(spec.get("data", {})) for spec in specs.values())  # data inline
    assert "window.vegaEmbed=" in html  # the Vega-Embed bundle is inline
    assert report.charts == CHARTS
    for chart in report.charts:
        assert f'id="chart-{chart}"' in html


def test_every_chart_is_a_valid_vega_lite_spec(warehouse, schedule):
    # the report builds its specs without altair's schema check (a third of its time): checked here
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import VegaLiteSchema

    db, _ = warehouse
    specs = chart_specs(read_report_data(db, "2025-10", schedule))
    assert set(specs) == set(CHARTS)
    for chart_id, spec in specs.items():
        error = validate_jsonschema(spec, VegaLiteSchema._rootschema, raise_error=False)
        assert error is None, f"{chart_id}: {error}"
    broken = dict(specs["fees"], mark={"type": "no_such_mark"})
    assert validate_jsonschema(broken, VegaLiteSchema._rootschema, raise_error=False) is not None


def test_specs_name_the_vega_lite_version_of_the_schema_checked():
    import altair as alt

    from flows.present.vega import SCHEMA_URL, VEGA_LITE_VERSION

    assert VEGA_LITE_VERSION == alt.SCHEMA_VERSION and SCHEMA_URL == alt.SCHEMA_URL


def test_a_run_imports_no_altair():
    # the specs are plain dicts: Altair's import was a tenth of a small month's run
    script = "import sys, flows.run.monthly, flows.present.report; print('altair' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_duty_by_program_chart_holds_the_monthly_sums(report):
    rows = _rows(_specs(report.path.read_text())["duty_by_program"])
    by_key = {(r["month"], r["program"]): r["duty_usd"] for r in rows}
    # October: car 30,000 -> MFN 750 + 232 3,750; brake 10,000 -> MFN 250 + 232 1,250;
    # motorcycle 10,000 -> MFN 240 + IEEPA 1,260 (15% total)
    assert by_key[("2025-10", "MFN")] == pytest.approx(1240.0)
    assert by_key[("2025-10", "Section 232")] == pytest.approx(5000.0)
    assert by_key[("2025-10", "IEEPA reciprocal")] == pytest.approx(1260.0)
    # September: car and brake before the deal: 25% on 40,000 = 10,000
    assert by_key[("2025-09", "Section 232")] == pytest.approx(10000.0)


def test_effective_rate_chart_per_category(report):
    spec = _specs(report.path.read_text())["effective_rate"]
    rates = {(r["month"], r["category"]): r["effective_duty_rate"] for r in _rows(spec) if "category" in r}
    assert rates[("2025-09", "cars")] == pytest.approx(0.275)  # 2.5% + 25%
    assert rates[("2025-10", "cars")] == pytest.approx(0.15)  # deal: 15% total
    assert rates[("2025-10", "parts")] == pytest.approx(0.15)
    assert rates[("2025-10", "motorcycles")] == pytest.approx(0.15)
    policy = {r["day"]: (r["marker"], r["label"]) for r in _rows(spec) if "label" in r}
    assert policy["2025-09-16"][0] == "1"
    assert "s232_autos_jp_deal starts (9903.94.41)" in policy["2025-09-16"][1]


def test_month_axes_are_yyyy_mm_and_money_axes_abbreviated(report):
    specs = _specs(report.path.read_text())
    program_x = specs["duty_by_program"]["encoding"]["x"]
    assert program_x["field"] == "month" and program_x["axis"]["values"] == ["2025-09", "2025-10"]
    rate_x = specs["effective_rate"]["layer"][0]["encoding"]["x"]
    assert rate_x["axis"]["format"] == "%Y-%m" and rate_x["axis"]["labelAngle"] == 0
    # October's duty is 7,500.00: thousands, so ticks read $2K, $4K, ...
    assert "/ 1000, ',.4~r') + 'K'" in specs["duty_by_program"]["encoding"]["y"]["axis"]["labelExpr"]
    assert specs["scenarios"]["encoding"]["x"]["axis"]["tickCount"] == 5


def test_money_unit():
    assert money_unit(40_000_000) == (1e6, "M")
    assert money_unit(1_200_000_000) == (1e9, "B")
    assert money_unit(7_500) == (1e3, "K")
    assert money_unit(999) == (1.0, "")


def test_top_hs_codes_carry_the_usitc_description(report):
    md = report.markdown
    # data/schedule/default/mfn_usitc_2025.csv, hts8 87083050; `&` escaped in the Markdown artifact
    assert ("| 8708.30.50.90 | Pts. \\& access. of mtr. vehicles of 8701, nesoi, and 8702-8705, brakes and"
            " servo-brakes \\& pts thereof | 1 | $10,000.00 | $1,500.00 | 15.00% |") in md
    labels = [r["label"] for r in _rows(_specs(report.path.read_text())["top_hs"])]
    assert "8711.40.60.00 …o/700 cc but n/o 800 cc" in " ".join(labels) or any(
        label.startswith("8711.40.60.00 ") for label in labels)


def test_fees_and_landed_cost(report):
    md = report.markdown
    # MPF 0.3464% per entry (within FY2026's 33.58 to 651.50): car 30,000 -> 103.92, brake and
    # motorcycle 10,000 -> 34.64 each = 173.20; HMF 0.125% on vessel lines: 37.50 + 12.50 + 12.50
    assert "| MPF | $173.20 |" in md and "| HMF | $62.50 |" in md
    # landed cost = 50,000.00 + 7,500.00 + 173.20 + 62.50
    assert "| landed cost (value + duty + fees) | $57,735.70 |" in md
    # car: 30,000 + 4,500 + 103.92 + 37.50 = 34,641.42 (115.47% of value)
    assert "| cars | 1 | $30,000.00 | $4,500.00 | $103.92 | $37.50 | $34,641.42 | 115.47% |" in md
    fees = {(r["month"], r["fee"]): r["fee_usd"] for r in _rows(_specs(report.path.read_text())["fees"])}
    assert fees[("2025-10", "MPF")] == pytest.approx(173.20) and fees[("2025-10", "HMF")] == pytest.approx(62.50)


def test_ieepa_refund_section(report):
    md = report.markdown
    # the motorcycles pay 15% total under the deal: 10,000 x (15% - 2.4% MFN) = 1,260.00 a month.
    # Liquidation estimated 314 days after entry: 2025-09-10 -> 2026-07-21, 103 days before
    # 2026-11-01 (finally liquidated, outside CAPE); 2025-10-15 -> 2026-08-25, 68 days (CAPE).
    assert ("| within 80 days of liquidation (CAPE) | yes | 1 | 1 | $1,260.00 | $1,260.00 | – | 2026-08-25 |"
            " 2026-08-25 |") in md
    assert "| finally liquidated (outside CAPE) | no | 1 | 1 | $1,260.00 | $0.00 | – | 2026-07-21 | 2026-07-21 |" in md
    assert "IEEPA duty paid $2,520.00, of which $1,260.00 estimated refundable through CAPE." in md
    assert "| IMP1 | 2 | $2,520.00 | $1,260.00 | $0.00 | 2025-09 to 2025-10 |" in md
    rows = _rows(_specs(report.path.read_text())["refunds"])
    assert {(r["month"], r["status"]): r["ieepa_duty_usd"] for r in rows} == {
        ("2025-09", "finally liquidated (outside CAPE)"): 1260.0,
        ("2025-10", "within 80 days of liquidation (CAPE)"): 1260.0,
    }


def test_reconciliation_names_the_likely_cause(report):
    # declared 8,250.00 (27.5%) against computed 4,500.00 (15%): 3,750.00 overpaid
    assert ("| overpaid | declared under the superseded 9903.94.01 (s232_autos) instead of 9903.94.41"
            " (s232_autos_jp_deal, from 2025-09-16) | 1 | $8,250.00 | $4,500.00 | −$3,750.00 |") in report.markdown


def test_warnings_come_last_as_one_short_list(report):
    html = report.path.read_text()
    body = html[html.index("<body>"):]
    assert body.index('id="warnings"') > body.index('id="chart-duty_by_program"') > body.index('class="kpis"')
    assert body.count("<details>") == 1
    assert report.markdown.rstrip().endswith("## Warnings (1)\n\n- unconfirmed: s301_jp_2026")


def test_short_warning_keeps_what_and_how_many():
    long = ("UNCONFIRMED measure s301_jp_2026 (heading 9903.05.49, inclusive_total rate 0.125, FR Doc 2026-15181): "
            "UNCONFIRMED: heading numbers and shape per FR Doc 2026-15181; used by 635 lines in 318 entries")
    assert short_warning(long) == "UNCONFIRMED measure s301_jp_2026: used by 635 lines in 318 entries"
    assert short_warning("metal content not declared: used by 153 lines in 126 entries") == (
        "metal content not declared: used by 153 lines in 126 entries")


def test_four_april_2025_events_get_four_lanes():
    # 2025-04-03, -05, -09, -10 on a 760 px axis over 2025-01-01..2026-11-01 (669 days): 1.14 px
    # a day, so the numbers 1-4 (9 px wide) are 2-8 px apart and need a lane each; 5 (2025-05-03)
    # is 26 px after 4 and goes back to the first lane.
    days = [dt.date(2025, 4, 3), dt.date(2025, 4, 5), dt.date(2025, 4, 9), dt.date(2025, 4, 10), dt.date(2025, 5, 3)]
    events = pl.DataFrame({"number": [1, 2, 3, 4, 5], "date": days})
    assert marker_lanes(events, dt.date(2025, 1, 1), dt.date(2026, 11, 1)) == [0, 1, 2, 3, 0]


@given(st.lists(st.integers(min_value=0, max_value=700), min_size=1, max_size=40))
def test_markers_in_one_lane_never_overlap(offsets):
    start, end = dt.date(2025, 1, 1), dt.date(2026, 12, 1)
    days = sorted(start + dt.timedelta(days=o) for o in offsets)
    events = pl.DataFrame({"number": list(range(1, len(days) + 1)), "date": days})
    lanes = marker_lanes(events, start, end)
    span = (end - start).days
    boxes: dict[int, list[tuple[float, float]]] = {}
    for number, day, lane in zip(range(1, len(days) + 1), days, lanes, strict=True):
        half = (len(str(number)) * MARKER_CHAR_PX + 2) / 2
        x = (day - start).days / span * 760
        for left, right in boxes.get(lane, []):
            assert x - half >= right + MARKER_GAP_PX or x + half + MARKER_GAP_PX <= left
        boxes.setdefault(lane, []).append((x - half, x + half))


def test_summary_markdown_tables(report):
    md = report.markdown
    # October total: 1,240 + 5,000 + 1,260 = 7,500.00 on 50,000.00 -> 15.00%
    assert "| total duty | $7,500.00 |" in md
    assert "| effective duty rate | 15.00% |" in md
    # no deal: car 8,250 + brake 2,750 + motorcycle 240 + 1,500 = 12,740; +5,240.00 vs 7,500
    assert "| no_japan_deal | $12,740.00 | +$5,240.00 | 25.48% |" in md
    # pre-2025: MFN only 1,240.00; −6,260.00
    assert "| pre_2025 | $1,240.00 | −$6,260.00 | 2.48% |" in md
    assert "| customs.csv | hts_code | hts_10_digits | 1 | 7 | 8703 |" in md


def test_policy_events_from_the_schedule():
    schedule = tiny_schedule(
        [measure("a", "l1", "*", "2025-04-03", "0.25"),
         measure("b", "l2", "*", "2025-04-05", "0.10", valid_to="2025-06-01", origin="JP"),
         measure("c", "l2", "*", "2025-04-03", "0.10", origin="DE", heading="9903.11.11"),
         measure("d", "l3", "*", "2027-01-01", "0.10")],
        scopes={}, mfn={},
    )
    events = policy_events(schedule, "JP", dt.date(2025, 1, 1), dt.date(2026, 12, 31))
    assert events.rows() == [
        (1, dt.date(2025, 4, 3), "a starts (9903.00.00)"),
        (2, dt.date(2025, 4, 5), "b starts (9903.00.00)"),
        (3, dt.date(2025, 6, 1), "b ends"),
    ]


def test_month_without_data_is_a_problem_not_a_crash(warehouse, schedule):
    db, exports = warehouse
    reports, problems = write_month_reports(db, exports, ["2025-10", "2024-01"])
    assert [r.month for r in reports] == ["2025-10"]
    assert problems == [f"report 2024-01 not written: ReportError: {db} holds no duty for 2024-01"]


def test_read_report_data_totals(warehouse, schedule):
    db, _exports = warehouse
    data = read_report_data(db, "2025-09", schedule)
    # September: car 8,250 + brake 2,750 + motorcycle 240 + 1,260 = 12,500.00
    assert data.totals["total_duty_usd"] == Decimal("12500.00")
    assert data.run["run_id"] == "test-2025-09"
