"""What the two kinds of local Prefect API server (flows/run/prefect_api.py: a temporary one
per command, or the long-lived shared one of flows/run/shared_api.py) have in common: the
settings read from the environment, the server's environment, waiting for its health check,
telling whether a pid is the shared server, and handing Prefect's queued logs over before a
server stops."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

API_URL_ENV = "PREFECT_API_URL"
MODE_ENV = "TARIFFCOST_PREFECT_API"
MODES = ("shared", "temporary")
IDLE_ENV = "TARIFFCOST_PREFECT_API_IDLE_SECONDS"
DEFAULT_IDLE_S = 900.0
START_TIMEOUT_ENV = "TARIFFCOST_PREFECT_API_START_TIMEOUT"
PREFECT_START_TIMEOUT_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
DEFAULT_START_TIMEOUT_S = 60.0
STATE_FILE = "tariffcost-api.json"
LOCK_FILE = "tariffcost-api.lock"
LOG_FILE = "tariffcost-api.log"
SERVER_MODULE = "flows.run.api_server"
# What Prefect's own temporary server sets (prefect.server.api.server.SubprocessASGIServer),
# plus telemetry off: a batch job has no business phoning home, and the telemetry service's
# first write races the API's own on a fresh database ("database is locked" tracebacks).
SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}
PORT_TAKEN_EXIT = 3  # uvicorn's exit code when it cannot bind the port
STOP_WAIT_S = 5.0
HEALTH_TIMEOUT_S = 2.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def say(message: str) -> None:
    print(f"tariffcost: {message}", file=sys.stderr, flush=True)


def healthy(url: str, timeout_s: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout_s) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def wait_healthy(url: str, process: subprocess.Popen | None, limit_s: float, pid: int | None = None) -> str | None:
    """None once `url` answers; otherwise why not (the process exited, or `limit_s` passed).
    `PORT_TAKEN` when the process could not bind its port. `pid`: a server this process did not
    start (no `process`), watched for exiting all the same."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        code = process.poll() if process is not None else None
        if code == PORT_TAKEN_EXIT:
            return "PORT_TAKEN"
        if code is not None:
            return f"the server exited with code {code} while starting"
        if process is None and pid is not None and not is_server_process(pid):
            return f"the server (pid {pid}) is gone"
        if healthy(url):
            return None
        time.sleep(0.05)
    return f"it did not answer within {limit_s:.0f} s"


def is_server_process(pid: int, module: str = SERVER_MODULE) -> bool:
    """Whether `pid` is alive and (where /proc tells) runs `module` (default: the shared
    server's; flows/run/warm.py asks it of the warm runner's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: not ours
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            with contextlib.suppress(ChildProcessError, OSError):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child that already exited
                    return False
            return module.encode() in cmdline.read_bytes()
        except OSError:
            return False
    return True


def drain_prefect_workers() -> None:
    """Send the logs and events still queued in this process to the API before it stops
    (otherwise Prefect retries them against a closed port at exit, for a minute)."""
    for module, worker in (("prefect.logging.handlers", "APILogWorker"), ("prefect.events.worker", "EventsWorker")):
        if module in sys.modules:
            getattr(sys.modules[module], worker).drain_all(timeout=STOP_WAIT_S)


def prefect_version() -> str:
    from importlib.metadata import version

    return version("prefect")


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _float_env(name: str, default: float) -> float | None:
    try:
        value = float(os.environ[name])
    except (KeyError, ValueError):
        return None
    return value if value > 0 else default


def start_timeout() -> float:
    """Seconds to wait for a local API to answer, per attempt."""
    for name in (START_TIMEOUT_ENV, PREFECT_START_TIMEOUT_ENV):
        value = _float_env(name, DEFAULT_START_TIMEOUT_S)
        if value is not None:
            return max(value, 1.0)
    return DEFAULT_START_TIMEOUT_S


def idle_timeout() -> float:
    """Seconds without requests after which the shared server stops."""
    value = _float_env(IDLE_ENV, DEFAULT_IDLE_S)
    return DEFAULT_IDLE_S if value is None else value
