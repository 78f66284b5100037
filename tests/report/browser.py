"""Headless Chromium (Debian package `chromium`) for the report's browser tests: load a page
with the network off, let its scripts draw the charts, and measure the rendered SVG text.

`measured_dom` copies the page, adds a script that waits until the page reports its charts
drawn (`data-charts-drawn` on <body>), then writes into `<pre id="text-boxes">` the
getBoundingClientRect() of every visible SVG <text> (opacity 0 anywhere up the tree, or empty
text, is not visible); `--dump-dom` returns the page afterwards. Virtual time lets the drawing
finish without waiting in real time."""

from __future__ import annotations

import html
import itertools
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SKIP_REASON = ("headless Chromium is not installed (Debian: apt-get install chromium); "
               "the browser check of the report is skipped")
OVERLAP_TOLERANCE_PX = 0.5  # boxes that share less than this in width or height do not overlap

MEASURE_SCRIPT = """
<script>
(function measure() {
  const drawn = document.body.dataset.chartsDrawn;
  if (drawn === undefined) { setTimeout(measure, 50); return; }
  const visible = (el) => { for (let e = el; e && e.nodeType === 1; e = e.parentNode) {
      const style = getComputedStyle(e);
      if (style.display === "none" || style.visibility === "hidden" || parseFloat(style.opacity) === 0) return false; }
    return true; };
  const boxes = [];
  document.querySelectorAll("svg text").forEach((el) => {
    const text = el.textContent.trim();
    if (!text || !visible(el)) return;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return;
    const chart = el.closest("[id^=chart-]");
    boxes.push({chart: chart ? chart.id : "", text: text, left: r.left, top: r.top, right: r.right, bottom: r.bottom});
  });
  const out = document.createElement("pre");
  out.id = "text-boxes";
  out.textContent = JSON.stringify({drawn: drawn, boxes: boxes});
  document.body.appendChild(out);
})();
</script>
"""


@dataclass(frozen=True)
class TextBox:
    chart: str
    text: str
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: TextBox) -> bool:
        width = min(self.right, other.right) - max(self.left, other.left)
        height = min(self.bottom, other.bottom) - max(self.top, other.top)
        return width > OVERLAP_TOLERANCE_PX and height > OVERLAP_TOLERANCE_PX


def chromium(args: list[str], profile: Path) -> str:
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", "--virtual-time-budget=20000", *args],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return result.stdout


def measured_dom(page: Path, workdir: Path) -> tuple[str, str, list[TextBox]]:
    """(the DOM after drawing, the page's drawn-charts flag, the visible SVG text boxes)."""
    text = page.read_text(encoding="utf-8")
    end = text.rindex("</body>")
    measured = workdir / f"measured-{page.name}"
    measured.write_text(text[:end] + MEASURE_SCRIPT + text[end:], encoding="utf-8")
    dom = chromium(["--window-size=1100,3000", "--dump-dom", measured.as_uri()], workdir / "profile")
    found = re.search(r'<pre id="text-boxes">(.*?)</pre>', dom, re.S)
    if found is None:
        return dom, "", []
    result = json.loads(html.unescape(found.group(1)))
    return dom, result["drawn"], [TextBox(**box) for box in result["boxes"]]


def overlapping(boxes: list[TextBox]) -> list[tuple[TextBox, TextBox]]:
    return [(a, b) for a, b in itertools.combinations(boxes, 2) if a.overlaps(b)]


def screenshot(page: Path, out: Path, workdir: Path, width: int = 1100, height: int = 4000) -> None:
    chromium([f"--window-size={width},{height}", f"--screenshot={out}", page.as_uri()], workdir / "profile")
