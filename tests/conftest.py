"""Test-wide setup. Prefect must never touch ~/.prefect or phone home: its home is a temp
folder and analytics are off, set here before any test module imports prefect. Flow tests
share ONE temporary Prefect API (`prefect_harness`, session-scoped): starting one costs
about 10 s, so only tests that run a Prefect flow ask for it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="tariffcost-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)
# derived files (the report's JavaScript bundle) are cached per session, never in ~/.cache
os.environ["TARIFFCOST_CACHE"] = tempfile.mkdtemp(prefix="tariffcost-cache-")

CUSTOMS_HEADER = (
    "entry_number,line_number,entry_date,hts_code,country_of_origin,customs_value_usd,"
    "quantity,quantity_unit,transport_mode,port_code,importer_id,declared_duty_usd,"
    "steel_content_value_usd,aluminum_content_value_usd"
)


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
