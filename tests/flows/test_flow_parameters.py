"""The run flows store their parameters for Prefect's UI in the form Prefect's own
`Flow.serialize_parameters` (FastAPI's `jsonable_encoder`) gives them, without importing
FastAPI (flows/run/flow_parameters.py)."""

from __future__ import annotations

import datetime as dt
import enum
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from prefect import Flow

from flows.run.distributed import cluster_backfill_duty_runs
from flows.run.flow_parameters import PlainParameterFlow, plain_json
from flows.run.monthly import backfill_duty_runs, monthly_duty_run
from flows.run.options import RunOptions

ROOT = Path(__file__).resolve().parents[2]


class Colour(enum.Enum):
    RED = "red"


OPTIONS = RunOptions(
    db_path=Path("data/warehouse.duckdb"),
    exports_dir=Path("/tmp/exports"),
    inputs={"customs": Path("in/{month}.parquet"), "census": "census.csv"},
    schedule_path=None,
    max_reject_rate=0.05,
    scenarios=("deal_expires", "scenarios/mine.csv"),
    wait_lock_seconds=30.0,
    allow_empty=True,
    customs_map="ace_es003",
)
PARAMETERS = [
    {"month": "2025-10", "options": OPTIONS, "customs": None, "scenarios": ["a", "b"], "max_reject_rate": 0.01},
    {"start": "2025-01", "end": "2026-10", "options": OPTIONS, "db": "w.duckdb", "allow_empty": False},
    {"when": dt.date(2026, 2, 24), "at": dt.datetime(2026, 2, 24, 12, 30), "amount": Decimal("12.50"),
     "count": Decimal("3"), "id": UUID(int=7), "colour": Colour.RED, "nested": {1: (Path("x"), None)}},
]


# (the cluster flow runs as a copy with the cluster's task runner: `with_options`)
@pytest.mark.parametrize(
    "run_flow", [monthly_duty_run, backfill_duty_runs, cluster_backfill_duty_runs.with_options(retries=0)]
)
@pytest.mark.parametrize("parameters", PARAMETERS)
def test_parameters_stored_as_prefect_stores_them(run_flow, parameters):
    assert isinstance(run_flow, PlainParameterFlow)
    assert run_flow.serialize_parameters(parameters) == Flow.serialize_parameters(run_flow, parameters)


def test_an_unknown_object_gets_prefects_placeholder():
    assert plain_json(object()) == "<object>"
    assert plain_json({"lock": object()}) == {"lock": "<object>"}


def test_storing_a_runs_parameters_does_not_import_fastapi():
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from flows.run.monthly import monthly_duty_run\n"
        "from flows.run.options import RunOptions\n"
        "options = RunOptions(db_path=Path('w.duckdb'), exports_dir=Path('e'), inputs={'customs': Path('c')})\n"
        "monthly_duty_run.serialize_parameters({'month': '2025-10', 'options': options})\n"
        "print('fastapi' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
