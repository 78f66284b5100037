"""The process-kill test hook, kept apart from the product code that calls it.

`pause_point(name)` is a no-op unless the environment names that point: the kill -9 tests
(tests/flows/test_processes.py, tests/distributed/test_cluster.py) start a real run with
TARIFFCOST_TEST_PAUSE_AT set and kill it while it sleeps there.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

# Test hook: TARIFFCOST_TEST_PAUSE_AT=<point> makes the run stop at that point (after touching
# TARIFFCOST_TEST_PAUSE_FILE, if set) for TARIFFCOST_TEST_PAUSE_SECONDS, so kill -9 tests can
# kill it there. Points: "compute" (before the marts are built), "publish" (staging warehouse
# and staged exports written, just before the swap).
PAUSE_ENV = "TARIFFCOST_TEST_PAUSE_AT"
PAUSE_FILE_ENV = "TARIFFCOST_TEST_PAUSE_FILE"
PAUSE_SECONDS_ENV = "TARIFFCOST_TEST_PAUSE_SECONDS"


def pause_point(name: str) -> None:
    """Sleep here when the test hook names this point (see PAUSE_ENV)."""
    if os.environ.get(PAUSE_ENV) != name:
        return
    marker = os.environ.get(PAUSE_FILE_ENV)
    if marker:
        Path(marker).write_text(f"{os.getpid()} {name}\n")
    time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "60")))
