"""The report drawn by a real browser: headless Chromium loads the file with the network off;
every chart must draw SVG marks, every section must be there, and no two visible SVG texts
(axis labels, titles, legends, policy markers) may overlap. Skipped, with the reason, where
Chromium is not installed (`.ci/run` installs it best-effort)."""

from __future__ import annotations

import re

import pytest

from flows.present.report import write_report
from tests.report.browser import CHROMIUM, SKIP_REASON, measured_dom, overlapping

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
# Marks each chart must contain once drawn (Vega's SVG renderer names groups `mark-<type>`).
EXPECTED_MARKS = {
    "duty_by_program": "mark-rect",
    "effective_rate": "mark-line",
    "refunds": "mark-rect",
    "fees": "mark-rect",
    "top_hs": "mark-rect",
    "scenarios": "mark-rect",
    "scenario_trend": "mark-line",
}
SECTIONS = ["duty", "effective_rate", "refunds", "landed_cost", "top_hs", "scenarios",
            "reconciliation", "rejects", "warnings"]


def _chart_markup(dom: str, chart: str) -> str:
    start = dom.index(f'id="chart-{chart}"')
    end = dom.find('<div class="chart"', start + 1)
    return dom[start: end if end != -1 else len(dom)]


def _describe(pairs) -> str:
    return "; ".join(f"{a.chart}: {a.text!r} overlaps {b.chart}: {b.text!r}" for a, b in pairs[:10])


def test_every_chart_draws_and_no_text_overlaps(warehouse, schedule, tmp_path):
    db, exports = warehouse
    report = write_report(db, exports, "2025-10", schedule)
    dom, drawn, boxes = measured_dom(report.path, tmp_path)
    assert drawn == str(len(EXPECTED_MARKS)), "the page did not report all charts drawn: " + (
        re.findall(r"chart failed to draw[^<]*", dom) or ["no error shown"])[0]
    for chart, mark in EXPECTED_MARKS.items():
        markup = _chart_markup(dom, chart)
        assert "<svg" in markup, f"{chart}: no SVG"
        drawn_marks = re.findall(r'<g class="mark-[a-z]+ role-mark[^"]*"[^>]*>(.*?)</g>', markup, re.S)
        assert mark in markup and any("<path" in g for g in drawn_marks), f"{chart}: no {mark} with paths"
    for section in SECTIONS:
        assert f'<section id="{section}">' in dom, f"section {section} missing"
    charts_with_text = {box.chart for box in boxes}
    assert charts_with_text == {f"chart-{c}" for c in EXPECTED_MARKS}  # every chart's text was measured
    assert "1" in {box.text for box in boxes if box.chart == "chart-effective_rate"}  # the policy marker
    pairs = overlapping(boxes)
    assert not pairs, _describe(pairs)


def test_overlap_check_sees_colliding_labels_and_ignores_hidden_ones(tmp_path):
    page = tmp_path / "collide.html"
    page.write_text(
        '<!DOCTYPE html><html><body data-charts-drawn="1"><div id="chart-x"><svg width="400" height="100">'
        '<text x="10" y="50" font-size="12">36,000,000</text><text x="60" y="50" font-size="12">40,000,000</text>'
        '<text x="10" y="50" font-size="12" opacity="0">hidden by labelOverlap</text>'
        '<text x="200" y="50" font-size="12">apart</text></svg></div></body></html>',
        encoding="utf-8",
    )
    _dom, drawn, boxes = measured_dom(page, tmp_path)
    assert drawn == "1"
    assert sorted(box.text for box in boxes) == ["36,000,000", "40,000,000", "apart"]
    assert [(a.text, b.text) for a, b in overlapping(boxes)] == [("36,000,000", "40,000,000")]


@pytest.mark.slow
def test_sample_month_report_has_no_overlapping_text(sample_backfill, tmp_path):
    """2026-10 of the embedded sample: 22 months on the axes, ten policy dates (four of them
    within one week of April 2025), every section filled."""
    page = sample_backfill.exports / "reports" / "2026-10.html"
    dom, drawn, boxes = measured_dom(page, tmp_path)
    assert drawn == str(len(EXPECTED_MARKS))
    markers = {box.text for box in boxes if box.chart == "chart-effective_rate" and box.text.isdigit()}
    assert {"1", "2", "3", "4"} <= markers
    for section in SECTIONS:
        assert f'<section id="{section}">' in dom, f"section {section} missing"
    pairs = overlapping(boxes)
    assert not pairs, _describe(pairs)
