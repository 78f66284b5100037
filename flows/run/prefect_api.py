"""The local Prefect API a command runs its flow against, found or booted before anything else.

A flow run needs a Prefect API. With one configured (PREFECT_API_URL in the environment, the
active profile or prefect.toml: a running `prefect server start`, Prefect Cloud, the test
harness), nothing is started and Prefect uses it as usual. Otherwise, by
`TARIFFCOST_PREFECT_API`:

- `shared` (the default): one long-lived local API per Prefect home (`SharedApi`,
  flows/run/shared_api.py). The first
  command starts it detached (`python -m flows.run.api_server`: Prefect's server app under
  uvicorn on 127.0.0.1, UI and services off, telemetry off) and records it in
  `$PREFECT_HOME/tariffcost-api.json` (pid, port, Prefect version); later commands check that
  it answers and use it, so they skip the server's boot (3 s on a quiet 2-core machine, 20 s
  and more under load) and the run history stays in one place. It stops by itself after
  `TARIFFCOST_PREFECT_API_IDLE_SECONDS` (default 900) without requests; `tariffcost api status`
  shows it, `tariffcost api stop` stops it.
- `temporary`: a server for this command only (`TemporaryApi`), stopped when the command ends
  and bound to it: on Linux it gets SIGKILL when the command dies in any way (prctl
  PR_SET_PDEATHSIG, set in the child before it runs uvicorn), and it runs in its own process
  group so a Ctrl-C reaches the command, which then stops the server after sending its logs.
  The shared mode falls back to this when the Prefect home cannot hold the shared server's
  files.

Either way the server process is launched as the very first thing a command does, so its boot
overlaps this process's own imports and option checks; `ready()` waits for its health endpoint
just before the flow starts (`TARIFFCOST_PREFECT_API_START_TIMEOUT` or Prefect's
PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, default 60 s) and starts it once more before
failing, saying so. While the command runs, SIGTERM is handled like SIGINT (KeyboardInterrupt:
the run fails without publishing, the temporary server is stopped). What both servers share
(settings, health checks, the server's environment) is flows/run/api_process.py's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from importlib.util import find_spec
from pathlib import Path

from flows.run.api_process import (
    API_URL_ENV,
    MODE_ENV,
    MODES,
    PR_SET_PDEATHSIG,
    SERVER_ENV,
    START_TIMEOUT_ENV,
    STOP_WAIT_S,
    drain_prefect_workers,
    free_port,
    say,
    start_timeout,
    wait_healthy,
)
from flows.run.shared_api import SharedApi


class TemporaryApi:
    """One Prefect API server process on 127.0.0.1, on a free port, for this command only."""

    kind = "temporary"

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            _server_command(self.port),
            env={**os.environ, **SERVER_ENV},
            stdin=subprocess.DEVNULL,
            preexec_fn=_bound_to_parent(),
        )

    def ready(self, timeout_s: float | None = None) -> None:
        """Wait until the API answers its health check; if it exits or does not answer within
        `timeout_s` (default: the start-up timeout setting), start it once more (saying so) and
        wait again; RuntimeError if that fails too."""
        if self.process is None:
            raise RuntimeError("the temporary Prefect API was not started")
        limit = timeout_s if timeout_s is not None else start_timeout()
        for attempt in (1, 2):
            problem = wait_healthy(self.url, self.process, limit)
            while problem == "PORT_TAKEN":  # another process took the port meanwhile
                self.stop()
                self.start()
                problem = wait_healthy(self.url, self.process, limit)
            if problem is None:
                return
            self.stop()
            if attempt == 1:
                say(f"the temporary Prefect API did not start ({problem}); starting it once more")
                self.start()
        raise RuntimeError(
            f"the temporary Prefect API did not start twice ({problem}; raise {START_TIMEOUT_ENV}, "
            f"or run `prefect server start` and set {API_URL_ENV})"
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        drain_prefect_workers()
        process.terminate()
        try:
            process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def describe(self) -> str:
        return (
            f"Prefect API: temporary server on 127.0.0.1:{self.port} "
            f"(set {API_URL_ENV} to use a running Prefect server)"
        )


class _ConfiguredApi:
    """An API from the environment or profile: nothing to start or wait for."""

    kind = "configured"

    def ready(self, timeout_s: float | None = None) -> None:
        return None

    def stop(self) -> None:
        return None


@contextlib.contextmanager
def prefect_api() -> Iterator[TemporaryApi | SharedApi | _ConfiguredApi]:
    """The Prefect API for this command. Enter it first (before heavy imports); call
    `.ready()` right before running a flow. Without a configured API, the shared (or
    temporary) server is found or started at once and used through the command's Prefect
    settings; a temporary one is stopped on exit. SIGTERM raises KeyboardInterrupt meanwhile."""
    api = None if os.environ.get(API_URL_ENV) else _local_api()
    restore = _sigterm_as_interrupt()
    try:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        if api is None or PREFECT_API_URL.value():  # configured, e.g. in the active profile
            if isinstance(api, TemporaryApi):
                api.stop()
            yield _ConfiguredApi()
            return
        say(api.describe())
        with temporary_settings(updates={PREFECT_API_URL: api.url, **_local_flow_settings()}):
            yield api
    finally:
        try:
            if api is not None:
                api.stop()
        finally:
            restore()


HEARTBEAT_ENVS = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")


def _local_flow_settings() -> dict:
    """Prefect settings for flows run against the local API: flow-run heartbeats off, unless
    the environment sets their frequency. Prefect's sync flow engine ends every flow run by
    joining its heartbeat thread, which sleeps in 1 s steps: 0 to 1 s (0.5 s on average) of
    every command's wall time, for events that only an automation watching for missing
    heartbeats would read. A configured API (PREFECT_API_URL) keeps Prefect's own setting."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY

    if any(os.environ.get(name) for name in HEARTBEAT_ENVS):
        return {}
    return {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}


def _local_api() -> TemporaryApi | SharedApi:
    """The started local API of the mode asked for (shared unless told otherwise)."""
    mode = os.environ.get(MODE_ENV, "shared").strip().lower() or "shared"
    if mode not in MODES:
        say(f"{MODE_ENV}={mode!r} is not one of {', '.join(MODES)}; using a temporary Prefect API")
        mode = "temporary"
    if mode == "shared":
        shared = SharedApi()
        try:
            shared.start()
            return shared
        except OSError as error:
            say(f"cannot use a shared Prefect API in {shared.home} ({error}); using a temporary one")
    temporary = TemporaryApi()
    temporary.start()
    return temporary


def _sigterm_as_interrupt() -> Callable[[], None]:
    """Handle SIGTERM like SIGINT (KeyboardInterrupt) in the main thread; returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    return lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _bound_to_parent() -> Callable[[], None]:
    """The temporary server's pre-exec step: its own process group, and on Linux SIGKILL when
    this process dies (checked once more after the prctl, in case it died in between)."""
    parent = os.getpid()
    prctl = None
    if sys.platform.startswith("linux"):
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before the fork

    def setup() -> None:
        os.setpgid(0, 0)
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return setup


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
