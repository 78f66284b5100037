"""The warm runner's process (`python -m flows.run.warm_server --socket P --record R
--idle-seconds S --settings-dir D`, started in the code's folder; what it is for:
flows/run/warm.py).

It imports what `tariffcost run` imports before its flow starts, except what starts threads
(Polars, DuckDB, PyArrow and the modules that import them: the forked run imports those
itself), checks that it is still one thread, then serves: one Unix-socket connection per
command, one fork per connection. The forked process takes the command's descriptors, working
directory, environment, umask and argv and runs the command line's `main` (which ends the
process with the command's exit code); the runner waits for it (wait4) and sends the command
its exit status and the run's resource use. One thread, one select loop: the runner never
forks while another of its threads could hold a lock.

Exits after `--idle-seconds` with no run, or on SIGTERM (`tariffcost api stop`): it stops
taking runs at once and exits when the running ones have ended. Its lock (`P.lock`, flock) makes
a second runner for the same socket exit at once.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import selectors
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path

from flows.run.shared_api import write_state
from flows.run.warm import HEADER, MAX_REQUEST, PASSED_FDS

# What `run` imports before its flow starts and that starts no thread (checked at start-up).
PRELOADED = (
    "flows.cli", "flows.cli.batch", "flows.cli.output", "flows.run.prefect_api", "flows.run.options",
    "prefect", "prefect.flows", "prefect.tasks", "prefect.flow_engine", "prefect.task_engine",
    "prefect.artifacts", "prefect.logging.handlers", "prefect.client.orchestration", "prefect.settings",
    "prefect.futures", "prefect.cache_policies", "prefect.utilities.visualization", "pydantic", "pydantic.v1",
    "pydantic.deprecated.decorator", "typer", "typer._adapters", "typer._click.decorators", "pandera", "httpx",
    "anyio._backends._asyncio", "anyio.streams.memory", "anyio.streams.stapled", "anyio.streams.tls",
    "encodings.idna", "stringprep", "pycountry", "flows.cli.api", "flows.cli.lookup", "flows.cli.refunds",
)
THREADED = ("polars", "duckdb", "pyarrow", "numpy")
REQUEST_TIMEOUT_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name if __spec__ else 'warm_server'}")
    parser.add_argument("--socket", type=Path, required=True)
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--idle-seconds", type=float, required=True)
    parser.add_argument("--settings-dir", type=Path, required=True,
                        help="the working directory Prefect's settings files are read from when it is imported")
    args = parser.parse_args()
    os.chdir(args.settings_dir)  # the modules come from sys.path[0], the code's folder (python -m)
    lock = _locked(args.socket.with_name(args.socket.name + ".lock"))
    if lock is None:
        return  # another runner serves this socket (or is starting to)
    started = time.monotonic()
    problem = preload()
    if problem:
        _log(f"not serving: {problem}")
        return
    _log(f"imports done in {time.monotonic() - started:.2f} s")
    Runner(args.socket, args.record, args.idle_seconds, lock).serve()


def preload() -> str | None:
    """Import PRELOADED as the command would (telemetry off and hypothesis hidden first, like
    flows/cli `main` and `run`); the reason not to serve, if any."""
    sys.modules.setdefault("hypothesis", None)  # type: ignore[assignment]
    from flows.cli.output import telemetry_off

    telemetry_off()
    import importlib

    for name in PRELOADED:
        importlib.import_module(name)
    threaded = [name for name in THREADED if name in sys.modules]
    if threaded:
        return f"{', '.join(threaded)} imported by the preloaded modules (they start threads)"
    threads = _os_threads()
    if threads != 1:
        return f"{threads} threads after the imports (a fork would copy none but this one)"
    gc.collect()
    gc.freeze()  # the forked runs' collections skip the imported objects (and leave their pages shared)
    return None


def _os_threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


class Runner:
    def __init__(self, path: Path, record: Path, idle_s: float, lock) -> None:
        self.path, self.record, self.idle_s, self.lock = path, record, idle_s, lock
        self.selector = selectors.DefaultSelector()
        self.running: dict[int, tuple[socket.socket, int | None]] = {}  # pid -> (connection, pidfd)
        self.stopping = False
        self.last_activity = time.monotonic()

    def serve(self) -> None:
        self.path.unlink(missing_ok=True)  # a runner killed before it could remove it
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        os.chmod(self.path, 0o600)
        listener.listen(64)
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ, "accept")
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        write_state(self.record, {
            "pid": os.getpid(), "socket": str(self.path), "prefect_home": os.environ.get("PREFECT_HOME", ""),
            "idle_timeout_s": self.idle_s, "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        })
        _log(f"serving on {self.path}")
        try:
            while True:
                if self.stopping and listener.fileno() >= 0:
                    self._close_listener(listener)
                if self.stopping and not self.running:
                    return
                if not self.running and time.monotonic() - self.last_activity >= self.idle_s:
                    _log(f"idle for {self.idle_s:.0f} s: exiting")
                    return
                timeout = 0.05 if any(fd is None for _, fd in self.running.values()) else 1.0
                for event, _ in self.selector.select(timeout):
                    if event.data == "accept":
                        self._accept(listener)
                    else:
                        self._reap(event.data)
                for pid, (_, pidfd) in list(self.running.items()):
                    if pidfd is None:
                        self._reap(pid)
        finally:
            if listener.fileno() >= 0:
                self._close_listener(listener)
            with contextlib.suppress(OSError):
                if json.loads(self.record.read_text(encoding="utf-8")).get("pid") == os.getpid():
                    self.record.unlink()

    def _stop(self, signum, frame) -> None:
        self.stopping = True

    def _close_listener(self, listener: socket.socket) -> None:
        self.selector.unregister(listener)
        listener.close()
        with contextlib.suppress(OSError):
            if self.path.exists():
                self.path.unlink()

    def _accept(self, listener: socket.socket) -> None:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return
        self.last_activity = time.monotonic()
        conn.setblocking(True)
        conn.settimeout(REQUEST_TIMEOUT_S)
        try:
            request, fds = _read_request(conn)
        except (OSError, ValueError) as error:
            _log(f"bad request: {error}")
            conn.close()
            return
        conn.settimeout(None)
        pid = os.fork()
        if pid == 0:
            self._let_go()
            listener.close()
            _run_forked(conn, request, fds)  # never returns
        for fd in fds:
            os.close(fd)
        try:
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        except OSError:
            pass  # the command is gone: the run sees its socket closed and ends itself
        pidfd = None
        with contextlib.suppress(AttributeError, OSError):
            pidfd = os.pidfd_open(pid)
            self.selector.register(pidfd, selectors.EVENT_READ, pid)
        self.running[pid] = (conn, pidfd)

    def _let_go(self) -> None:
        """In a forked run: close what only the runner uses (its lock, selector, the other
        runs' sockets and process descriptors)."""
        self.lock.close()
        self.selector.close()
        for conn, pidfd in self.running.values():
            conn.close()
            if pidfd is not None:
                os.close(pidfd)
        self.running.clear()

    def _reap(self, pid: int) -> None:
        try:
            done, status, usage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:
            done, status, usage = pid, 0, None
        if done == 0:
            return
        conn, pidfd = self.running.pop(pid)
        self.last_activity = time.monotonic()
        if pidfd is not None:
            self.selector.unregister(pidfd)
            os.close(pidfd)
        code = os.waitstatus_to_exitcode(status) if usage is not None else 1
        reply = {"exit": code if code >= 0 else 128 - code, "rusage": _usage(usage)}
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps(reply).encode() + b"\n")
        conn.close()


def _read_request(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 65536, len(PASSED_FDS))
    try:
        if len(fds) != len(PASSED_FDS):
            raise ValueError(f"{len(fds)} descriptors passed, not {len(PASSED_FDS)}")
        if len(data) < HEADER.size:
            raise ValueError("no request")
        (size,) = HEADER.unpack_from(data)
        if size > MAX_REQUEST:
            raise ValueError(f"a request of {size} bytes")
        body = bytearray(data[HEADER.size:])
        while len(body) < size:
            chunk = conn.recv(size - len(body))
            if not chunk:
                raise ValueError("the request ended early")
            body += chunk
        return json.loads(body.decode("utf-8", "surrogateescape")), fds
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def _run_forked(conn: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked process: become the command, run it, end with its exit code."""
    try:
        for target, fd in zip(PASSED_FDS, fds, strict=True):
            os.dup2(fd, target)
        for fd in fds:
            if fd not in PASSED_FDS:
                os.close(fd)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.umask(int(request["umask"]))
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["tariffcost", *request["argv"][1:]]
        sys.stdout.reconfigure(line_buffering=os.isatty(1))
        threading.Thread(target=_stop_when_gone, args=(conn,), name="tariffcost-warm-watch", daemon=True).start()
        from flows.cli import main as command

        command(here=True, on_exit=lambda code: _tell(conn, {"exit": code}))  # ends the process
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
            sys.stderr.flush()
    os._exit(1)


def _tell(conn: socket.socket, message: dict) -> None:
    """The run's own word of its exit code, for the command in case the runner is gone by the
    time the run ends (the runner's reply, with the resource use, follows it)."""
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(message).encode() + b"\n")


def _stop_when_gone(conn: socket.socket) -> None:
    """The command sends nothing after its request and closes the socket only once it has the
    run's exit status: a socket closed before that means the command died without passing on
    a signal (kill -9, the OOM killer, a crash). The run then dies the same way, at once, as
    the one process the command and the run stand for would have (a publish is kill -9 safe,
    and the warehouse lock is free for the next run right away; a SIGTERM would wait for the
    DuckDB or Polars call under way)."""
    with contextlib.suppress(OSError):
        while conn.recv(1):
            pass
    os.kill(os.getpid(), signal.SIGKILL)


def _usage(usage) -> dict:
    if usage is None:
        return {}
    return {
        "maxrss_kib": usage.ru_maxrss, "utime_s": usage.ru_utime, "stime_s": usage.ru_stime,
        "oublock": usage.ru_oublock, "inblock": usage.ru_inblock,
    }


def _locked(path: Path):
    import fcntl

    handle = path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle  # held (and kept open) for the runner's life


def _log(message: str) -> None:
    print(f"{dt.datetime.now().isoformat(timespec='seconds')} warm runner {os.getpid()}: {message}", flush=True)


if __name__ == "__main__":
    main()
