"""The long-lived local Prefect API of a Prefect home (`SharedApi`), reused by the commands
after the one that started it: its pid/port record (`$PREFECT_HOME/tariffcost-api.json`,
`read_state`), its status (`tariffcost api status`) and its stop (`tariffcost api stop`,
`stop_shared`). The server process itself is flows/run/api_server.py."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from flows.run.api_process import (
    API_URL_ENV,
    HEALTH_TIMEOUT_S,
    LOCK_FILE,
    LOG_FILE,
    MODE_ENV,
    SERVER_ENV,
    SERVER_MODULE,
    START_TIMEOUT_ENV,
    STATE_FILE,
    drain_prefect_workers,
    free_port,
    healthy,
    idle_timeout,
    is_server_process,
    prefect_version,
    say,
    start_timeout,
    wait_healthy,
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
            if state is not None and state.get("prefect_version") == prefect_version():
                self.port, self.pid, self.reused = state["port"], state["pid"], True
                return
            if state is not None:  # another Prefect version's server: replace it
                stop_shared(self.home)
            self._launch()

    def _launch(self) -> None:
        self.port = free_port()
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
        write_state(self.state_path, {
            "pid": self.pid, "port": self.port, "url": self.url, "prefect_version": prefect_version(),
            "idle_timeout_s": idle_timeout(), "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "log": str(self.home / LOG_FILE),
        })

    def ready(self, timeout_s: float | None = None) -> None:
        """Wait until the server answers; a server that does not (it exited, hangs, or was
        recorded by a crashed command) is stopped and a new one started once, saying so."""
        limit = timeout_s if timeout_s is not None else start_timeout()
        for attempt in (1, 2):
            problem = wait_healthy(self.url, self.process, limit, self.pid)
            while problem == "PORT_TAKEN":
                with _file_lock(self.home / LOCK_FILE):
                    self._launch()
                problem = wait_healthy(self.url, self.process, limit)
            if problem is None:
                return
            with _file_lock(self.home / LOCK_FILE):
                stop_shared(self.home)
                if attempt == 1:
                    say(f"the shared Prefect API (pid {self.pid}) did not answer ({problem}); starting it once more")
                    self._launch()
        raise RuntimeError(
            f"the shared Prefect API did not start twice ({problem}; its log: {self.home / LOG_FILE}; "
            f"raise {START_TIMEOUT_ENV}, set {MODE_ENV}=temporary, or run `prefect server start` "
            f"and set {API_URL_ENV})"
        )

    def stop(self) -> None:
        """At the command's end: send the queued logs and events; the server keeps running."""
        drain_prefect_workers()

    def describe(self) -> str:
        how = "reused" if self.reused else "started"
        return (f"Prefect API: shared local server on 127.0.0.1:{self.port} (pid {self.pid}, {how}; stops after "
                f"{idle_timeout():.0f} s idle or on `tariffcost api stop`; {MODE_ENV}=temporary for one per command)")


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
    if not is_server_process(pid):
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
        if not ended(pid, wait_s):
            os.kill(pid, signal.SIGKILL)
            ended(pid, wait_s)
    (home / STATE_FILE).unlink(missing_ok=True)
    return state


def ended(pid: int, wait_s: float) -> bool:
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
    return {**state, "answers": healthy(f"http://127.0.0.1:{state['port']}/api", HEALTH_TIMEOUT_S)}


def write_state(path: Path, state: dict) -> None:
    """`state` as the JSON file `path`, replaced whole (written beside it, then renamed)."""
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
