"""The `tariffcost` command line (contract: README "Command line").

Exit codes: 0 success; 1 the run failed and nothing was published (or `validate` found
problems); 2 bad command line; 130 interrupted (Ctrl-C or SIGTERM). Prefect is imported only
by `run`, `backfill` and `serve`, so `quote`, `validate` and `schedule` answer without starting
it.

The commands are split by kind: flows/cli/batch.py (`run`, `backfill`, `serve`),
flows/cli/lookup.py (`quote`, `validate`, `schedule`), flows/cli/api.py (`api status|stop`),
flows/cli/refunds.py (`refunds`);
flows/cli/base.py holds the Typer app, the option types and the value parsers. The console
script is `flows.cli:main` (`app`, started and ended faster); tests drive `app`.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable

from flows.allocator import configure_allocator

configure_allocator()  # before anything imports Polars (flows/allocator.py)

__all__ = ["SERVE_CRON", "SERVE_TIMEZONE", "app", "main"]
_LAZY = {"app": "flows.cli.base", "SERVE_CRON": "flows.cli.batch", "SERVE_TIMEZONE": "flows.cli.batch"}


def __getattr__(name: str):
    """`app` (with every command registered) and the serve schedule, imported on first use:
    `main` decides first whether the command runs here at all (flows/run/warm.py)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    _registered_app()
    return getattr(importlib.import_module(_LAZY[name]), name)


def _registered_app():
    """The Typer app with every command registered on it (by importing their modules)."""
    from flows.cli import api, batch, lookup, refunds  # noqa: F401
    from flows.cli.base import app

    return app


def main(*, here: bool = False, on_exit: Callable[[int], None] | None = None) -> None:
    """The `tariffcost` console script: `app`, started and ended faster (`here`: never hand
    the command over, the warm runner's forked process calls it so, with `on_exit`, told the
    exit code once the output is flushed, just before the process ends).

    - `run` is handed to the warm runner when one is up for this environment and code
      (flows/run/warm.py): the command then only passes its descriptors and waits, and the
      imports below are already done in the process that runs it. Otherwise (or with
      TARIFFCOST_WARM=off) it runs here, and starts the runner for the next `run`.

    - pandera imports hypothesis, when it is installed (the test extras), only to offer
      data-synthesis strategies no command uses: about 0.4 s of every command's start-up. The
      script hides it from this process (an ImportError, which pandera expects when hypothesis
      is absent); tests that drive `app` import it as usual.
    - `run` and `backfill` import Prefect, pydantic, pandera and FastAPI (about 1.3 s of CPU)
      before their flow starts, allocating hundreds of thousands of objects, which makes
      Python's cyclic garbage collector run over and over for nothing: about 0.1-0.2 s. The
      collector is off until the flow starts (flows/cli/batch.py `_run_flow`), where it is
      turned back on with the start-up's objects frozen (gc.freeze: later collections do not
      walk them again).
    - After the command, the interpreter's own teardown (freeing every module and object of a
      process that imported Prefect, Polars and DuckDB) took 1 to 3 s on the benchmark machine.
      The script does what a normal exit does first (waits for non-daemon threads, runs the
      atexit handlers: Prefect's, logging's; flushes stdout and stderr) and then ends the process
      at once. Every file the commands write is closed by then (DuckDB connections, exports,
      the journal and the report are closed by the code that writes them).
    """
    from flows.run import warm

    if not here and warm.enabled(sys.argv):
        try:
            code = warm.run_warm(sys.argv)
        except KeyboardInterrupt:  # Ctrl-C before the run's pid came back (then it is passed on)
            print("tariffcost: interrupted by SIGINT before the run started; nothing was published", file=sys.stderr)
            code = 130
        if code is not None:
            _exit_now(code)
    sys.modules.setdefault("hypothesis", None)  # type: ignore[assignment]
    if sys.argv[1:2] in (["run"], ["backfill"]):
        gc.disable()
    app = _registered_app()
    try:
        app()
        code: object = 0
    except SystemExit as done:
        code = done.code
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    _exit_now(0 if code is None else int(code), on_exit)


def _exit_now(code: int, on_exit: Callable[[int], None] | None = None) -> None:
    import atexit
    import os
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # the handlers a normal exit runs (undocumented, stable since 2.x)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or stream
            pass
    if on_exit is not None:
        on_exit(code)
    os._exit(code)
