"""Prefect's temporary local API for one command, booted before anything else.

A flow run needs a Prefect API. With none configured (no PREFECT_API_URL in the environment,
the active profile or prefect.toml), Prefect would start a temporary server when the flow
begins: it imports the whole server stack into this process first (about 2 s of CPU on the
GIL), then waits another ~3 s for the server process. `prefect_api()` instead launches the
same server process (uvicorn on Prefect's `create_app` factory, UI off, telemetry off) as the
very first thing a command does, so its boot overlaps this process's own imports and option
checks, and points the command's Prefect settings at it. `ready()` waits for its health
endpoint just before the flow starts; the process is stopped when the command ends.

With an API configured, nothing is started and Prefect uses that API as usual (a running
`prefect server start`, Prefect Cloud, or the test harness).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

API_URL_ENV = "PREFECT_API_URL"
START_TIMEOUT_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
DEFAULT_START_TIMEOUT_S = 20.0
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


class TemporaryApi:
    """One Prefect API server process on 127.0.0.1, on a free port."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(_server_command(self.port), env={**os.environ, **SERVER_ENV})

    def ready(self, timeout_s: float | None = None) -> None:
        """Wait until the API answers its health check; RuntimeError if the process exits
        or `timeout_s` passes (default: Prefect's ephemeral start-up timeout setting)."""
        if self.process is None:
            raise RuntimeError("the temporary Prefect API was not started")
        limit = timeout_s if timeout_s is not None else _start_timeout()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code == PORT_TAKEN_EXIT:  # another process took the port meanwhile
                self.start()
                continue
            if code is not None:
                raise RuntimeError(f"the temporary Prefect API server exited with code {code} while starting")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"the temporary Prefect API did not answer within {limit:.0f} s "
            f"(raise {START_TIMEOUT_ENV}, or run `prefect server start` and set {API_URL_ENV})"
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        _drain_prefect_workers()
        process.terminate()
        try:
            process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _ConfiguredApi:
    """An API from the environment or profile: nothing to start or wait for."""

    def ready(self, timeout_s: float | None = None) -> None:
        return None


@contextlib.contextmanager
def prefect_api() -> Iterator[TemporaryApi | _ConfiguredApi]:
    """The Prefect API for this command. Enter it first (before heavy imports); call
    `.ready()` right before running a flow. Without a configured API, a temporary server is
    started at once, used through the command's Prefect settings, and stopped on exit."""
    api = None if os.environ.get(API_URL_ENV) else TemporaryApi()
    if api is not None:
        api.start()  # boots while Prefect's settings are imported below
    try:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        if api is None or PREFECT_API_URL.value():  # configured, e.g. in the active profile
            if api is not None:
                api.stop()
            yield _ConfiguredApi()
            return
        print(
            f"tariffcost: Prefect API: temporary server on 127.0.0.1:{api.port} "
            f"(set {API_URL_ENV} to use a running Prefect server)",
            file=sys.stderr,
        )
        with temporary_settings(updates={PREFECT_API_URL: api.url}):
            yield api
    finally:
        if api is not None:
            api.stop()


def _drain_prefect_workers() -> None:
    """Send the logs and events still queued in this process to the API before it stops
    (otherwise Prefect retries them against a closed port at exit, for a minute)."""
    for module, worker in (("prefect.logging.handlers", "APILogWorker"), ("prefect.events.worker", "EventsWorker")):
        if module in sys.modules:
            getattr(sys.modules[module], worker).drain_all(timeout=STOP_WAIT_S)


def _server_command(port: int) -> list[str]:
    spec = find_spec("prefect")
    if spec is None or spec.origin is None:
        raise RuntimeError("prefect is not installed")
    return [
        sys.executable, "-m", "uvicorn",
        "--app-dir", str(Path(spec.origin).parent.parent),
        "--factory", "prefect.server.api.server:create_app",
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "error", "--lifespan", "on",
    ]


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_timeout() -> float:
    try:
        return float(os.environ.get(START_TIMEOUT_ENV, DEFAULT_START_TIMEOUT_S))
    except ValueError:
        return DEFAULT_START_TIMEOUT_S
