"""The warm runner: `tariffcost run` handed to a long-lived local process that has Prefect and
the command line already imported, which forks a fresh process for each run.

A `run` spends about 0.8 s of CPU importing Prefect, pydantic, FastAPI and Typer before its
flow starts (README "Performance", fixed cost): a third of a 10k-line month. The warm runner
imports them once (flows/run/warm_server.py); each `run` then connects to it over a Unix socket,
passes its argv, working directory, environment, umask and its stdin, stdout and stderr (the
descriptors themselves, SCM_RIGHTS), and the runner forks: the forked process is the command,
in the state a fresh process would reach after those imports, and runs the month as a fresh
process would (its own Prefect flow run against the same API, its own DuckDB connections, its
own Polars thread pool: Polars, DuckDB and PyArrow start threads when imported, so the runner
never imports them and refuses to serve if anything started a thread). The command waits for
it and ends with its exit code.

- **Started on first use, by a `run` that found none**: that run runs in its own process as
  before and starts the runner detached beside it; the runs after it use it. The runner stops
  after `TARIFFCOST_WARM_IDLE_SECONDS` (default 900) without a run, or by `tariffcost api stop`.
- **One runner per environment and code**: the socket's name is a hash of the environment
  and of the files Prefect reads its settings from when imported (prefect.toml, pyproject.toml
  and .env of the working directory, the profiles file: their contents; the runner imports
  Prefect in the working directory of the command that started it), the Python, the installed
  packages (the site-packages folder's time) and every source file of flows/, transforms/ and
  schemas/ (name, size, time). Edited code, another environment or other Prefect settings get
  their own runner; the old one idles out.
- **Signals and death**: Ctrl-C, SIGTERM and SIGHUP of the command are passed to the run (which
  fails without publishing, exit 130, as in a process of its own); Ctrl-Z stops the run with
  the command and SIGCONT resumes both; if the command is killed outright (kill -9) the run
  sees its socket close and kills itself at once, as if the two were one process (a publish is
  kill -9 safe; the warehouse lock is free at once).
- **Measuring**: the run's CPU, peak memory and bytes written are its own process's, not the
  command's; with `TARIFFCOST_WARM_RUSAGE=FILE` the command writes them there (JSON, what
  wait4 gave the runner), which the benchmark reads.
- **Off**: `TARIFFCOST_WARM=off` runs every command in its own process (the tests do, except the
  runner's own). Only on Linux (fork after imports; SCM_RIGHTS). Anything that keeps the runner
  from being used (no socket, a stale one, a folder of another user) makes the command run in
  its own process; nothing is lost but the saved start-up.

The socket, its lock, the runner's record (`w-<key>.json`) and its log live in
`$XDG_RUNTIME_DIR/tariffcost-<uid>/` (else `$TMPDIR` or /tmp), a folder only this user can
enter; `TARIFFCOST_WARM_DIR` names another.

This module is what the command imports before anything else (flows/cli/__init__.py `main`):
standard library only, a few milliseconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

WARM_ENV = "TARIFFCOST_WARM"
WARM_DIR_ENV = "TARIFFCOST_WARM_DIR"
IDLE_ENV = "TARIFFCOST_WARM_IDLE_SECONDS"
RUSAGE_ENV = "TARIFFCOST_WARM_RUSAGE"
DEFAULT_IDLE_S = 900.0
OFF_VALUES = ("off", "0", "no", "false")
WARM_COMMANDS = (["run"],)
SERVER_MODULE = "flows.run.warm_server"
# environment variables a shell changes between commands without changing what a run does
VOLATILE_ENV = frozenset({"_", "PWD", "OLDPWD", "SHLVL", WARM_ENV, RUSAGE_ENV})
CODE_PACKAGES = ("flows", "transforms", "schemas")
SETTINGS_FILES = ("prefect.toml", "pyproject.toml", ".env")  # read by Prefect's settings from the working directory
HEADER = struct.Struct("!I")  # the request's length, before its JSON
MAX_REQUEST = 1 << 24
PASSED_FDS = (0, 1, 2)
HAND_OVER_TIMEOUT_S = 30.0  # the runner reads the request and forks: milliseconds
FORWARDED_SIGNALS = {signal.SIGINT: signal.SIGINT, signal.SIGTERM: signal.SIGTERM, signal.SIGHUP: signal.SIGTERM}


def enabled(argv: list[str], env: os._Environ | dict | None = None) -> bool:
    """Whether this command may be handed to a warm runner."""
    env = os.environ if env is None else env
    if argv[1:2] not in WARM_COMMANDS or "--help" in argv[2:]:
        return False
    if env.get(WARM_ENV, "on").strip().lower() in OFF_VALUES:
        return False
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds") and hasattr(os, "fork")


def idle_seconds() -> float:
    try:
        return max(1.0, float(os.environ.get(IDLE_ENV, DEFAULT_IDLE_S)))
    except ValueError:
        return DEFAULT_IDLE_S


def runner_dir(env: os._Environ | dict | None = None) -> Path | None:
    """This user's folder for the runners' sockets (made 0700), or None when it cannot be
    made or is not private to this user."""
    env = os.environ if env is None else env
    if env.get(WARM_DIR_ENV):
        folder = Path(env[WARM_DIR_ENV]).expanduser().absolute()
    else:
        base = env.get("XDG_RUNTIME_DIR") or env.get("TMPDIR") or "/tmp"
        folder = Path(base).absolute() / f"tariffcost-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return folder


def runner_key(env: os._Environ | dict | None = None) -> str:
    """The hash naming the runner that may run this command (see the module docstring)."""
    env = os.environ if env is None else env
    digest = hashlib.blake2b(digest_size=10)
    digest.update(f"{sys.executable}\0{sys.version}\0".encode())
    for name in sorted(env):
        if name not in VOLATILE_ENV:
            digest.update(f"{name}={env[name]}\0".encode("utf-8", "surrogateescape"))
    root = code_root()
    for package in CODE_PACKAGES:
        for folder, dirs, files in os.walk(root / package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    with contextlib.suppress(OSError):
                        info = os.stat(os.path.join(folder, name))
                        digest.update(f"{folder}/{name}:{info.st_size}:{info.st_mtime_ns}\0".encode())
    for path in _site_packages():
        with contextlib.suppress(OSError):
            digest.update(f"{path}:{os.stat(path).st_mtime_ns}\0".encode())
    for path in settings_files(env):
        try:
            content = Path(path).read_bytes()
        except OSError:
            content = b"(none)"
        digest.update(f"{os.path.basename(path)}:{len(content)}\0".encode() + content)
    return digest.hexdigest()


def settings_files(env: os._Environ | dict, cwd: str | None = None) -> list[str]:
    """The files Prefect's settings read when it is imported: prefect.toml, pyproject.toml and
    .env of the working directory, and the profiles file (its active profile). Their contents
    are part of the key; the runner is started in the command's working directory."""
    folder = os.getcwd() if cwd is None else cwd
    home = os.path.expanduser(env.get("PREFECT_HOME") or "~/.prefect")
    profiles = env.get("PREFECT_PROFILES_PATH") or os.path.join(home, "profiles.toml")
    return [*(os.path.join(folder, name) for name in SETTINGS_FILES), os.path.expanduser(profiles)]


def code_root() -> Path:
    """The folder holding the flows, transforms and schemas packages."""
    return Path(__file__).resolve().parent.parent.parent


def _site_packages() -> list[str]:
    return sorted({p for p in sys.path if p.endswith("site-packages")})


def socket_path(folder: Path, key: str) -> Path:
    return folder / f"w-{key}.sock"


def record_path(folder: Path, key: str) -> Path:
    return folder / f"w-{key}.json"


def run_warm(argv: list[str]) -> int | None:
    """Run this command in the warm runner and return its exit code; None when there is no
    runner to use (one is then started for the next command, and this one runs here)."""
    folder = runner_dir()
    if folder is None:
        return None
    key = runner_key()
    path = socket_path(folder, key)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        start_runner(folder, key)
        return None
    with sock:
        return _handed_over(sock, argv)


def _handed_over(sock: socket.socket, argv: list[str]) -> int | None:
    request = json.dumps({
        "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": _umask(),
    }).encode("utf-8", "surrogateescape")
    try:
        sock.settimeout(HAND_OVER_TIMEOUT_S)
        socket.send_fds(sock, [HEADER.pack(len(request)) + request], list(PASSED_FDS))
        replies = sock.makefile("rb")
        started = replies.readline()
        sock.settimeout(None)
    except OSError:  # a closed stdin, a runner gone or stuck (a run it forked late sees this socket close)
        return None  # and this command runs here instead
    if not started:
        return None  # the runner ended before forking: nothing ran
    pid = int(json.loads(started)["pid"])
    previous = {sig: signal.signal(sig, _forward_to(pid, to)) for sig, to in FORWARDED_SIGNALS.items()}
    previous[signal.SIGTSTP] = signal.signal(signal.SIGTSTP, _stop_both(pid))
    previous[signal.SIGCONT] = signal.signal(signal.SIGCONT, _forward_to(pid, signal.SIGCONT))
    told: int | None = None  # the run's own word, sent just before it ends
    try:
        for line in replies:  # until the runner's reply (exit code and resource use) or the end
            status = json.loads(line)
            if "rusage" not in status:
                told = int(status["exit"])
                continue
            if os.environ.get(RUSAGE_ENV):
                with contextlib.suppress(OSError):
                    Path(os.environ[RUSAGE_ENV]).write_text(json.dumps(status["rusage"]) + "\n", encoding="utf-8")
            return int(status["exit"])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return told if told is not None else _lost_runner(pid)


def _forward_to(pid: int, to: signal.Signals):
    def forward(signum, frame) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, to)

    return forward


def _stop_both(pid: int):
    """Ctrl-Z: the run is stopped with the command (SIGCONT, e.g. the shell's `fg`, resumes
    both: it is passed on)."""

    def stop(signum, frame) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
        os.kill(os.getpid(), signal.SIGSTOP)

    return stop


def _lost_runner(pid: int) -> int:
    """Neither the runner nor the run said how the run (`pid`) ended (the runner was killed,
    and so was the run, or the run died before it could say): wait for it to be gone; exit 1
    (its outcome is in the runs journal)."""
    while Path(f"/proc/{pid}").exists():
        time.sleep(0.1)
    print(f"tariffcost: the warm runner ended during the run (pid {pid}), which ended without an exit code; "
          "its outcome is in the runs journal beside the warehouse", file=sys.stderr)
    return 1


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def start_runner(folder: Path, key: str) -> None:
    """Start the runner for `key` detached (it exits at once if another holds its lock)."""
    log = (folder / f"w-{key}.log").open("ab")
    try:
        subprocess.Popen(
            [sys.executable, "-m", SERVER_MODULE, "--socket", str(socket_path(folder, key)),
             "--record", str(record_path(folder, key)), "--idle-seconds", str(idle_seconds()),
             "--settings-dir", os.getcwd()],
            env=dict(os.environ), cwd=code_root(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True,  # no terminal signal reaches it
        )
    except OSError:
        pass  # this command runs here either way
    finally:
        log.close()


def runners(folder: Path | None = None) -> list[dict]:
    """The recorded runners of this user whose process is alive (stale records removed)."""
    folder = runner_dir() if folder is None else folder
    found = []
    if folder is None:
        return found
    for path in sorted(folder.glob("w-*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            pid = int(record["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _is_runner(pid):
            found.append({**record, "pid": pid, "record": str(path)})
        else:
            path.unlink(missing_ok=True)
    return found


def _is_runner(pid: int) -> bool:
    from flows.run.api_process import is_server_process

    return is_server_process(pid, SERVER_MODULE)


def stop_runners(folder: Path | None = None, wait_s: float = 10.0) -> list[dict]:
    """Stop every recorded runner of this user (SIGTERM: it stops taking runs, lets the
    running ones end, then exits); returns those it stopped."""
    from flows.run.shared_api import ended

    stopped = runners(folder)
    for record in stopped:
        with contextlib.suppress(ProcessLookupError):
            os.kill(record["pid"], signal.SIGTERM)
    for record in stopped:
        ended(record["pid"], wait_s)
    return stopped
