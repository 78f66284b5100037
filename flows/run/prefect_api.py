"""The local Prefect API a command runs its flow against, found or booted before anything else.

A flow run needs a Prefect API. With one configured (PREFECT_API_URL in the environment, the
active profile or prefect.toml: a running `prefect server start`, Prefect Cloud, the test
harness), nothing is started and Prefect uses it as usual. Otherwise, by
`TARIFFCOST_PREFECT_API`:

- `shared` (the default): one long-lived local API per Prefect home (`SharedApi`). The first
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
the run fails without publishing, the temporary server is stopped).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from importlib.util import find_spec
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


def _say(message: str) -> None:
    print(f"tariffcost: {message}", file=sys.stderr, flush=True)


def _healthy(url: str, timeout_s: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout_s) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _wait_healthy(url: str, process: subprocess.Popen | None, limit_s: float, pid: int | None = None) -> str | None:
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
        if process is None and pid is not None and not _is_server_process(pid):
            return f"the server (pid {pid}) is gone"
        if _healthy(url):
            return None
        time.sleep(0.05)
    return f"it did not answer within {limit_s:.0f} s"


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
        self.port = _free_port()
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
            problem = _wait_healthy(self.url, self.process, limit)
            while problem == "PORT_TAKEN":  # another process took the port meanwhile
                self.stop()
                self.start()
                problem = _wait_healthy(self.url, self.process, limit)
            if problem is None:
                return
            self.stop()
            if attempt == 1:
                _say(f"the temporary Prefect API did not start ({problem}); starting it once more")
                self.start()
        raise RuntimeError(
            f"the temporary Prefect API did not start twice ({problem}; raise {START_TIMEOUT_ENV}, "
            f"or run `prefect server start` and set {API_URL_ENV})"
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

    def describe(self) -> str:
        return (
            f"Prefect API: temporary server on 127.0.0.1:{self.port} "
            f"(set {API_URL_ENV} to use a running Prefect server)"
        )


class SharedApi:
    """The long-lived local API of this Prefect home: reused when it answers, else started
    detached. The command never stops it (it stops when idle, or by `tariffcost api stop`)."""

    kind = "shared"

    def __init__(self, home: Path | None = None) -> None:
        self.home = home if home is not None else prefect_home()
        self.process: subprocess.Popen | None = None  # set when this command started it
        self.port: int | None = None
        self.pid: int | None = None
        self.reused = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def state_path(self) -> Path:
        return self.home / STATE_FILE

    def start(self) -> None:
        """Use the recorded server if it is alive and of this Prefect version (it may still be
        booting: `ready()` waits), else start one. OSError if the home cannot hold its files."""
        self.home.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.home / LOCK_FILE):
            state = read_state(self.home)
            if state is not None and state.get("prefect_version") == _prefect_version():
                self.port, self.pid, self.reused = state["port"], state["pid"], True
                return
            if state is not None:  # another Prefect version's server: replace it
                stop_shared(self.home)
            self._launch()

    def _launch(self) -> None:
        self.port = _free_port()
        log = (self.home / LOG_FILE).open("ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", SERVER_MODULE, "--port", str(self.port),
                 "--idle-seconds", str(idle_timeout()), "--state", str(self.state_path)],
                env={**os.environ, **SERVER_ENV},
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,  # detached: no terminal signal or parent death reaches it
                cwd=self.home,
            )
        finally:
            log.close()
        self.pid, self.reused = self.process.pid, False
        _write_state(self.state_path, {
            "pid": self.pid, "port": self.port, "url": self.url, "prefect_version": _prefect_version(),
            "idle_timeout_s": idle_timeout(), "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "log": str(self.home / LOG_FILE),
        })

    def ready(self, timeout_s: float | None = None) -> None:
        """Wait until the server answers; a server that does not (it exited, hangs, or was
        recorded by a crashed command) is stopped and a new one started once, saying so."""
        limit = timeout_s if timeout_s is not None else start_timeout()
        for attempt in (1, 2):
            problem = _wait_healthy(self.url, self.process, limit, self.pid)
            while problem == "PORT_TAKEN":
                with _file_lock(self.home / LOCK_FILE):
                    self._launch()
                problem = _wait_healthy(self.url, self.process, limit)
            if problem is None:
                return
            with _file_lock(self.home / LOCK_FILE):
                stop_shared(self.home)
                if attempt == 1:
                    _say(f"the shared Prefect API (pid {self.pid}) did not answer ({problem}); starting it once more")
                    self._launch()
        raise RuntimeError(
            f"the shared Prefect API did not start twice ({problem}; its log: {self.home / LOG_FILE}; "
            f"raise {START_TIMEOUT_ENV}, set {MODE_ENV}=temporary, or run `prefect server start` "
            f"and set {API_URL_ENV})"
        )

    def stop(self) -> None:
        """At the command's end: send the queued logs and events; the server keeps running."""
        _drain_prefect_workers()

    def describe(self) -> str:
        how = "reused" if self.reused else "started"
        return (f"Prefect API: shared local server on 127.0.0.1:{self.port} (pid {self.pid}, {how}; stops after "
                f"{idle_timeout():.0f} s idle or on `tariffcost api stop`; {MODE_ENV}=temporary for one per command)")


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
        _say(api.describe())
        with temporary_settings(updates={PREFECT_API_URL: api.url}):
            yield api
    finally:
        try:
            if api is not None:
                api.stop()
        finally:
            restore()


def _local_api() -> TemporaryApi | SharedApi:
    """The started local API of the mode asked for (shared unless told otherwise)."""
    mode = os.environ.get(MODE_ENV, "shared").strip().lower() or "shared"
    if mode not in MODES:
        _say(f"{MODE_ENV}={mode!r} is not one of {', '.join(MODES)}; using a temporary Prefect API")
        mode = "temporary"
    if mode == "shared":
        shared = SharedApi()
        try:
            shared.start()
            return shared
        except OSError as error:
            _say(f"cannot use a shared Prefect API in {shared.home} ({error}); using a temporary one")
    temporary = TemporaryApi()
    temporary.start()
    return temporary


# -- the shared server's files ----------------------------------------------------------------------
def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()


def read_state(home: Path) -> dict | None:
    """The recorded shared server if its process is alive (a stale or unreadable record is
    removed), else None."""
    path = home / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        pid, port = int(state["pid"]), int(state["port"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)
        return None
    if not _is_server_process(pid):
        path.unlink(missing_ok=True)
        return None
    return {**state, "pid": pid, "port": port}


def stop_shared(home: Path | None = None, wait_s: float = 10.0) -> dict | None:
    """Stop the recorded shared server (SIGTERM, then SIGKILL after `wait_s`); returns what
    was recorded, or None if none was running."""
    home = home if home is not None else prefect_home()
    state = read_state(home)
    if state is None:
        return None
    pid = state["pid"]
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        if not _ended(pid, wait_s):
            os.kill(pid, signal.SIGKILL)
            _ended(pid, wait_s)
    (home / STATE_FILE).unlink(missing_ok=True)
    return state


def _ended(pid: int, wait_s: float) -> bool:
    """Wait up to `wait_s` for `pid` to be gone (or a zombie: ended, not yet reaped; reaped
    here if it is this process's child)."""
    deadline = time.monotonic() + wait_s
    while True:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
            stat = Path(f"/proc/{pid}/stat")
            if stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
                return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        except (PermissionError, OSError):
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def shared_status(home: Path | None = None) -> dict | None:
    """The recorded shared server with `answers` (its health check), or None."""
    home = home if home is not None else prefect_home()
    state = read_state(home)
    if state is None:
        return None
    return {**state, "answers": _healthy(f"http://127.0.0.1:{state['port']}/api", HEALTH_TIMEOUT_S)}


def _is_server_process(pid: int) -> bool:
    """Whether `pid` is alive and (where /proc tells) runs the shared server module."""
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
            return SERVER_MODULE.encode() in cmdline.read_bytes()
        except OSError:
            return False
    return True


def _write_state(path: Path, state: dict) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    partial.replace(path)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on `path` (POSIX flock; no lock where flock is missing)."""
    with path.open("a") as handle:
        try:
            import fcntl
        except ImportError:  # not POSIX
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- process plumbing -----------------------------------------------------------------------------
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


def _sigterm_as_interrupt() -> Callable[[], None]:
    """Handle SIGTERM like SIGINT (KeyboardInterrupt) in the main thread; returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    return lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


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


def _prefect_version() -> str:
    from importlib.metadata import version

    return version("prefect")


def _free_port() -> int:
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
