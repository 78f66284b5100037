"""The report drawn by a real browser: headless Chromium (Debian package `chromium`) loads
the file with the network off and every chart must draw SVG marks. Skipped, with the reason,
where Chromium is not installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from flows.present.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (Debian: apt-get install chromium); the browser check of the report is skipped",
)
# Marks each chart must contain once drawn (Vega's SVG renderer names groups `mark-<type>`).
EXPECTED_MARKS = {
    "duty_by_program": "mark-rect",
    "effective_rate": "mark-line",
    "top_hs": "mark-rect",
    "scenarios": "mark-rect",
    "scenario_trend": "mark-line",
}


def chromium_dom(page: Path, profile: Path) -> str:
    """The DOM after the page's scripts ran (virtual time lets the async drawing finish)."""
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--proxy-server=127.0.0.1:9", "--virtual-time-budget=20000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return result.stdout


def _chart_markup(dom: str, chart: str) -> str:
    start = dom.index(f'id="chart-{chart}"')
    end = dom.find('<div class="chart"', start + 1)
    return dom[start: end if end != -1 else len(dom)]


def test_every_chart_draws_in_chromium(warehouse, schedule, tmp_path):
    db, exports = warehouse
    report = write_report(db, exports, "2025-10", schedule)
    dom = chromium_dom(report.path, tmp_path / "profile")
    assert 'data-charts-drawn="5"' in dom, "the page did not report all charts drawn: " + (
        re.findall(r"chart failed to draw[^<]*", dom) or ["no error shown"])[0]
    for chart, mark in EXPECTED_MARKS.items():
        markup = _chart_markup(dom, chart)
        assert "<svg" in markup, f"{chart}: no SVG"
        drawn = re.findall(r'<g class="mark-[a-z]+ role-mark[^"]*"[^>]*>(.*?)</g>', markup, re.S)
        assert mark in markup and any("<path" in g for g in drawn), f"{chart}: no {mark} with paths"
