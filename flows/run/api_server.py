"""The shared local Prefect API process: Prefect's server app under uvicorn on 127.0.0.1, which
stops by itself after a period without requests. Started detached by flows/run/shared_api.py
(`SharedApi`) on the first command that needs an API, reused by the commands after it:

    python -m flows.run.api_server --port PORT --idle-seconds SECONDS --state FILE

It serves until no request has been open for `--idle-seconds` (a request or websocket in
progress keeps it alive), or until SIGTERM/SIGINT (`tariffcost api stop`); on the way out it
removes `--state` (the pid/port file under PREFECT_HOME) if that file still names this process.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

WATCH_INTERVAL_S = 5.0


class IdleWatch:
    """An ASGI wrapper that counts open requests and remembers when the last one ended."""

    def __init__(self, app) -> None:
        self.app = app
        self.open = 0
        self.last_seen = time.monotonic()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        self.open += 1
        self.last_seen = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            self.open -= 1
            self.last_seen = time.monotonic()

    def idle_for(self) -> float:
        return 0.0 if self.open else time.monotonic() - self.last_seen


def _stop_when_idle(server, watch: IdleWatch, idle_seconds: float) -> None:
    """Ask uvicorn to exit once no request has been open for `idle_seconds`, counted from
    the moment it serves (its boot is not idleness)."""
    while not server.started and not server.should_exit:
        time.sleep(0.1)
    watch.last_seen = time.monotonic()
    while not server.should_exit:
        time.sleep(min(WATCH_INTERVAL_S, idle_seconds))
        if watch.idle_for() >= idle_seconds:
            server.should_exit = True


def _remove_state(state: Path) -> None:
    """Remove the pid/port file if it still names this process (a newer server may own it)."""
    try:
        if json.loads(state.read_text(encoding="utf-8")).get("pid") == os.getpid():
            state.unlink()
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--idle-seconds", type=float, required=True)
    parser.add_argument("--state", type=Path, required=True)
    args = parser.parse_args(argv)

    import uvicorn
    from prefect.server.api.server import create_app

    watch = IdleWatch(create_app())
    server = uvicorn.Server(
        uvicorn.Config(watch, host="127.0.0.1", port=args.port, log_level="error", lifespan="on")
    )
    threading.Thread(target=_stop_when_idle, args=(server, watch, args.idle_seconds), daemon=True).start()
    try:
        server.run()
    finally:
        _remove_state(args.state)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
