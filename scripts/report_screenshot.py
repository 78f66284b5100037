"""Regenerate docs/report.png: a headless-Chromium screenshot of the top of one month's report
of the embedded sample (run `make run` first; default month 2026-10). Needs Chromium
(Debian: apt-get install chromium); the page draws offline, the network is disabled.

    .venv/bin/python scripts/report_screenshot.py [--month 2026-10] [--height 2480]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--height", type=int, default=2480, help="pixels of the page to capture")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "report.png")
    args = parser.parse_args()
    page = REPO_ROOT / "data" / "exports" / "reports" / f"{args.month}.html"
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None or not page.exists():
        print(f"needs Chromium and {page} (run `make run`)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", "--virtual-time-budget=20000",
             f"--window-size=1050,{args.height}", f"--screenshot={args.out}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
