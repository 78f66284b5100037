"""flows/present/report.py on a small published warehouse: the file is self-contained, the chart data
and the summary tables hold the hand-computed sums, policy dates come from the schedule."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest

from flows.present.report import policy_events, read_report_data, report_path, write_month_reports, write_report
from tests.engine.tiny_schedule import measure, tiny_schedule


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
    assert report.charts == ["duty_by_program", "effective_rate", "top_hs", "scenarios", "scenario_trend"]
    for chart in report.charts:
        assert f'id="chart-{chart}"' in html


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
    policy = {r["day"]: r["label"] for r in _rows(spec) if "label" in r}
    assert "s232_autos_jp_deal starts (9903.94.41)" in policy["2025-09-16"]


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
    assert "Warning: unconfirmed: s301_jp_2026" in md


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
        (dt.date(2025, 4, 3), "a starts (9903.00.00)"),
        (dt.date(2025, 4, 5), "b starts (9903.00.00)"),
        (dt.date(2025, 6, 1), "b ends"),
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
