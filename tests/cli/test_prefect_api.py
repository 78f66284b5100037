"""The temporary Prefect API a command boots for itself (flows/run/prefect_api.py): used by a real
`tariffcost run` with no API configured, stopped when the command ends, never started when an
API is configured, and a server that dies while starting is a clear error."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from flows.run import prefect_api as api_module
from flows.run.prefect_api import TemporaryApi, prefect_api
from tests.conftest import write_customs_csv
from tests.flows.frames import CAR_JUNE

REPO = Path(__file__).resolve().parents[2]
TARIFFCOST = Path(sys.executable).parent / "tariffcost"


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_run_without_a_configured_api_boots_one_and_stops_it(tmp_path):
    customs = write_customs_csv(tmp_path / "customs.csv", [CAR_JUNE])
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    out = subprocess.run(
        [str(TARIFFCOST), "run", "--month", "2025-06", "--customs", str(customs),
         "--db", str(tmp_path / "w.duckdb"), "--exports", str(tmp_path / "exports")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    port = int(re.search(r"temporary server on 127\.0\.0\.1:(\d+)", out.stderr).group(1))
    assert "Error logging to API" not in out.stderr  # queued logs were sent before the stop
    assert "Traceback" not in out.stderr
    assert not _port_open(port)  # the server process ended with the command
    assert (tmp_path / "w.duckdb").exists()


def test_a_configured_api_is_used_and_nothing_is_started(monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    started = []
    monkeypatch.setattr(TemporaryApi, "start", lambda self: started.append(self))
    with prefect_api() as api:
        api.ready()  # returns at once: nothing to wait for
    assert started == []


def test_flow_heartbeats_are_off_on_the_local_api(monkeypatch):
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    for name in ("PREFECT_API_URL", *api_module.HEARTBEAT_ENVS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(api_module, "_local_api", lambda: api_module.TemporaryApi())
    monkeypatch.setattr(TemporaryApi, "stop", lambda self: None)
    with temporary_settings(restore_defaults={PREFECT_API_URL}), prefect_api():
        assert get_current_settings().flows.heartbeat_frequency is None


def test_flow_heartbeats_set_in_the_environment_are_kept(monkeypatch):
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY

    monkeypatch.delenv("PREFECT_RUNNER_HEARTBEAT_FREQUENCY", raising=False)
    monkeypatch.delenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", raising=False)
    assert api_module._local_flow_settings() == {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")
    assert api_module._local_flow_settings() == {}


def test_a_configured_api_keeps_prefects_heartbeats(monkeypatch):
    from prefect.settings import get_current_settings

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    default = get_current_settings().flows.heartbeat_frequency
    with prefect_api():
        assert get_current_settings().flows.heartbeat_frequency == default


def test_a_server_that_dies_while_starting_is_reported(monkeypatch):
    monkeypatch.setattr(api_module, "_server_command", lambda port: [sys.executable, "-c", "raise SystemExit(5)"])
    api = TemporaryApi()
    api.start()
    with pytest.raises(RuntimeError, match="exited with code 5 while starting"):
        api.ready(timeout_s=30)
    api.stop()
    assert api.process is None
