"""How long the local Prefect API lives (flows/run/prefect_api.py), on real processes:

- the temporary API dies with its command however the command ends: kill -9 of the command
  alone (what the OOM killer does) leaves no server process (Linux: PR_SET_PDEATHSIG); SIGTERM
  is handled like SIGINT (the run fails without publishing, exit 1, no traceback) and the
  server is stopped;
- start-up retries once and says so;
- the shared API is started by the first command, reused by the next, shown by
  `tariffcost api status`, stopped by `tariffcost api stop`, and stops by itself when idle.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from flows.run import prefect_api as api_module
from flows.run.prefect_api import TemporaryApi
from flows.run.shared_api import SharedApi, read_state
from tests.conftest import write_customs_csv
from tests.flows.frames import CAR_JUNE

REPO = Path(__file__).resolve().parents[2]
TARIFFCOST = Path(sys.executable).parent / "tariffcost"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")


def _env(tmp_path: Path, mode: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), TARIFFCOST_PREFECT_API=mode, **extra)
    return env


def _start_paused_run(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """`tariffcost run` (temporary API) held at the compute stage, inside the flow."""
    customs = write_customs_csv(tmp_path / "customs.csv", [CAR_JUNE])
    marker = tmp_path / "paused"
    env = _env(tmp_path, "temporary", TARIFFCOST_TEST_PAUSE_AT="compute", TARIFFCOST_TEST_PAUSE_FILE=str(marker),
               TARIFFCOST_TEST_PAUSE_SECONDS="120")
    process = subprocess.Popen(
        [str(TARIFFCOST), "run", "--month", "2025-06", "--customs", str(customs),
         "--db", str(tmp_path / "w.duckdb"), "--exports", str(tmp_path / "exports")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 180
    while not marker.exists():
        if process.poll() is not None:
            raise AssertionError(f"run exited early: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("run never reached the pause point")
        time.sleep(0.05)
    return process, marker


def _servers_of(process: subprocess.Popen) -> list[psutil.Process]:
    servers = [c for c in psutil.Process(process.pid).children(recursive=True) if "uvicorn" in " ".join(c.cmdline())]
    assert len(servers) == 1, servers  # the command's temporary API, running meanwhile
    return servers


def _gone(proc: psutil.Process, within_s: float = 20.0) -> bool:
    try:
        proc.wait(timeout=within_s)
    except psutil.TimeoutExpired:
        return False
    return True


@pytest.mark.slow
@linux_only
def test_kill_9_of_the_command_alone_leaves_no_server(tmp_path):
    process, _ = _start_paused_run(tmp_path)
    server = _servers_of(process)[0]
    os.kill(process.pid, signal.SIGKILL)  # the command only, not its process group
    process.wait(10)
    assert _gone(server), f"uvicorn {server.pid} outlived its command"
    assert not (tmp_path / "w.duckdb").exists()


@pytest.mark.slow
def test_sigterm_is_handled_like_sigint_and_stops_the_server(tmp_path):
    process, _ = _start_paused_run(tmp_path)
    server = _servers_of(process)[0]
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, (out, err)  # as for Ctrl-C: interrupted, nothing published
    assert "Traceback" not in err
    assert "tariffcost: interrupted by SIGTERM" in err
    assert _gone(server), f"uvicorn {server.pid} outlived its command"
    assert not (tmp_path / "w.duckdb").exists()
    journal = [json.loads(line) for line in (tmp_path / "w.duckdb.runs.jsonl").read_text().splitlines()]
    assert journal[-1]["status"] == "failed"


def test_start_up_retries_once_and_says_so(monkeypatch, capsys):
    commands = iter([[sys.executable, "-c", "raise SystemExit(5)"]])
    real = api_module._server_command
    monkeypatch.setattr(api_module, "_server_command", lambda port: next(commands, None) or real(port))
    api = TemporaryApi()
    api.start()
    try:
        api.ready(timeout_s=120)
        assert api.process is not None and api.process.poll() is None
    finally:
        api.stop()
    assert "did not start (the server exited with code 5 while starting); starting it once more" in capsys.readouterr().err


def test_start_up_fails_after_the_second_attempt(monkeypatch):
    monkeypatch.setattr(api_module, "_server_command", lambda port: [sys.executable, "-c", "raise SystemExit(6)"])
    api = TemporaryApi()
    api.start()
    with pytest.raises(RuntimeError, match=r"did not start twice \(the server exited with code 6 while starting"):
        api.ready(timeout_s=30)
    assert api.process is None


@pytest.mark.slow
def test_the_shared_api_is_reused_shown_and_stopped(tmp_path):
    customs = write_customs_csv(tmp_path / "customs.csv", [CAR_JUNE])
    env = _env(tmp_path, "shared")
    pids = []
    try:
        for month_db in ("a", "b"):
            out = subprocess.run(
                [str(TARIFFCOST), "run", "--month", "2025-06", "--customs", str(customs),
                 "--db", str(tmp_path / f"{month_db}.duckdb"), "--exports", str(tmp_path / f"exports-{month_db}")],
                cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
            )
            assert out.returncode == 0, out.stderr
            assert "Traceback" not in out.stderr
            pids.append(re.search(r"shared local server on 127\.0\.0\.1:\d+ \(pid (\d+), (started|reused)", out.stderr).groups())
        assert pids[0][1] == "started" and pids[1] == (pids[0][0], "reused")  # one server for both runs
        status = subprocess.run([str(TARIFFCOST), "api", "status"], env=env, capture_output=True, text=True, timeout=60)
        assert status.returncode == 0 and f"pid {pids[0][0]}" in status.stdout and "answering" in status.stdout
    finally:
        stop = subprocess.run([str(TARIFFCOST), "api", "stop"], env=env, capture_output=True, text=True, timeout=60)
    assert stop.returncode == 0 and "stopped the shared Prefect API" in stop.stdout
    assert not psutil.pid_exists(int(pids[0][0])) or psutil.Process(int(pids[0][0])).status() == psutil.STATUS_ZOMBIE
    status = subprocess.run([str(TARIFFCOST), "api", "status"], env=env, capture_output=True, text=True, timeout=60)
    assert status.returncode == 1 and "no shared Prefect API is running" in status.stderr


@pytest.mark.slow
def test_the_shared_api_stops_by_itself_when_idle(tmp_path, monkeypatch):
    monkeypatch.setenv("TARIFFCOST_PREFECT_API_IDLE_SECONDS", "2")
    api = SharedApi(tmp_path / "prefect")
    api.start()
    try:
        api.ready(timeout_s=120)
        assert read_state(api.home)["pid"] == api.pid
        api.process.wait(timeout=60)  # nobody asks it anything: it stops
    finally:
        if api.process.poll() is None:
            api.process.kill()
    assert api.process.returncode == 0
    assert read_state(api.home) is None  # and removed its pid/port file


def test_a_stale_or_unreadable_record_is_removed_not_trusted(tmp_path):
    home = tmp_path / "prefect"
    home.mkdir()
    state = home / "tariffcost-api.json"
    state.write_text(json.dumps({"pid": 2**22 + 7, "port": 9}))  # above Linux's largest pid_max
    assert read_state(home) is None and not state.exists()  # no such server process
    state.write_text(json.dumps({"pid": os.getpid(), "port": 9}))
    assert read_state(home) is None and not state.exists()  # alive, but not the server module
    state.write_text("{not json")
    assert read_state(home) is None and not state.exists()
