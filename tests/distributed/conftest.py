"""A real Dask cluster on 127.0.0.1: `dask scheduler` and `dask worker` processes (no nanny,
one thread each), started on free ports and stopped after the test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DASK = str(Path(sys.executable).with_name("dask"))
START_SECONDS = 60


@dataclass
class LocalDask:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def local_dask(workers: int, log_dir: Path, worker_env: dict[str, str] | None = None) -> Iterator[LocalDask]:
    """Start a scheduler and `workers` worker processes on 127.0.0.1; stop them all after."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []

    def start(args: list[str], name: str, env: dict[str, str]) -> subprocess.Popen:
        log = (log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen([DASK, *args], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    try:
        scheduler = start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                          "scheduler", dict(os.environ))
        env = {**os.environ, **(worker_env or {})}
        started = [
            start(["worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                   "--no-dashboard", "--name", f"w{i}"], f"worker{i}", env)
            for i in range(workers)
        ]
        with Client(address, timeout=START_SECONDS) as client:
            client.wait_for_workers(workers, timeout=START_SECONDS)
        yield LocalDask(address=address, scheduler=scheduler, workers=started)
    finally:
        _stop(processes)
