"""Test-wide setup. Prefect must never touch ~/.prefect or phone home: its home is a temp
folder and analytics are off, set here before any test module imports prefect. Flow tests
share ONE temporary Prefect API (`prefect_harness`, session-scoped): starting one costs
about 10 s, so only tests that run a Prefect flow ask for it."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="tariffcost-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# commands the tests start boot Prefect's temporary API: on a loaded 2-core CI machine that can
# take longer than the 20 s default (flows/run/prefect_api.py)
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.pop("PREFECT_API_URL", None)
# commands run by tests boot a temporary Prefect API that ends with them (flows/run/prefect_api.py);
# the tests of the shared API ask for it, in a Prefect home of their own, and stop it
os.environ["TARIFFCOST_PREFECT_API"] = "temporary"
# every command in its own process: the warm runner's own tests turn it on (tests/cli/test_warm.py)
os.environ["TARIFFCOST_WARM"] = "off"
# derived files (the report's JavaScript bundle) are cached per session, never in ~/.cache
os.environ["TARIFFCOST_CACHE"] = tempfile.mkdtemp(prefix="tariffcost-cache-")

REPO_ROOT = Path(__file__).resolve().parents[1]
CUSTOMS_HEADER = (
    "entry_number,line_number,entry_date,hts_code,country_of_origin,customs_value_usd,"
    "quantity,quantity_unit,transport_mode,port_code,importer_id,declared_duty_usd,"
    "steel_content_value_usd,aluminum_content_value_usd"
)


@pytest.fixture(scope="session", autouse=True)
def _no_shared_prefect_api_left() -> Iterator[None]:
    """Whatever a test did, no shared Prefect API of the session's Prefect home outlives it."""
    yield
    from flows.run.shared_api import stop_shared

    stop_shared(Path(_PREFECT_HOME))


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for the whole session (flow tests only)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="session")
def schedule():
    """The shipped default schedule (data/schedule/default), read once for the session."""
    from flows.inputs.schedule import read_schedule

    return read_schedule()


def pytest_collection_modifyitems(items) -> None:
    """A test that boots a Prefect API (the `prefect_harness` fixture) is slow: `make
    test-fast` (`pytest -m "not slow"`) leaves it out, with the real-cluster and real-process
    tests marked slow where they are written."""
    for item in items:
        if "prefect_harness" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


def write_customs_csv(path: Path, rows: list[str]) -> Path:
    """A customs entry-lines CSV with the contract header and `rows` (CSV text lines)."""
    path.write_text("\n".join([CUSTOMS_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def customs_csv(tmp_path: Path):
    """Factory: customs_csv(rows, name="customs.csv") -> path of a customs CSV."""

    def make(rows: list[str], name: str = "customs.csv") -> Path:
        return write_customs_csv(tmp_path / name, rows)

    return make


@dataclass(frozen=True)
class SampleBackfill:
    """The embedded sample backfilled the way `make run` does it, in a temporary folder:
    `root/data/warehouse.duckdb` and `root/data/exports/` (TARIFFCOST_DB, TARIFFCOST_EXPORTS)."""

    root: Path
    env: dict[str, str]
    output: str

    @property
    def db(self) -> Path:
        return self.root / "data" / "warehouse.duckdb"

    @property
    def exports(self) -> Path:
        return self.root / "data" / "exports"


def make_run_command() -> list[str]:
    """The command of the Makefile's `run` target, with $(BIN) the running interpreter's folder."""
    lines = (REPO_ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    recipe = lines[lines.index("run: $(STAMP)") + 1]
    return shlex.split(recipe.strip().replace("$(BIN)/", f"{Path(sys.executable).parent}/"))


@pytest.fixture(scope="session")
def sample_backfill(tmp_path_factory) -> SampleBackfill:
    """`make run`'s backfill of the sample (2025-01 to 2026-10, the three shipped scenarios) in a
    fresh process, once per session (about a minute)."""
    root = tmp_path_factory.mktemp("sample-backfill")
    (root / "data").mkdir()
    env = {**os.environ, "TARIFFCOST_DB": str(root / "data" / "warehouse.duckdb"),
           "TARIFFCOST_EXPORTS": str(root / "data" / "exports"), "DO_NOT_TRACK": "1"}
    result = subprocess.run(make_run_command(), cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"make run's backfill failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return SampleBackfill(root=root, env=env, output=result.stdout + result.stderr)


@pytest.fixture(scope="session")
def prefect_api_url(prefect_harness) -> str:
    """The URL of the session's temporary Prefect API, for `tariffcost` child processes that
    should report to it instead of starting one of their own."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session, exitstatus) -> None:
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config) -> None:
    """End the test process as soon as pytest is done, with pytest's exit status: the
    interpreter's teardown would only print DuckDB's `nanobind: leaked …` lines for objects
    some library still holds at exit (the suite's own connections are closed), after the
    result line. The same exit the `tariffcost` command takes (flows/cli: main)."""
    if _EXIT_STATUS and os.environ.get("TARIFFCOST_TEST_FULL_TEARDOWN") != "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])
