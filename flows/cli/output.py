"""What a batch command prints around its run summary (README "What a run prints").

- Telemetry: Prefect's client-side switch (`DO_NOT_TRACK`) is set, like the server's
  (flows/run/prefect_api.py), before Prefect is imported, unless the user chose a value.
- Prefect's console: its flow- and task-state lines (`Task run 'load-2025-06' - Finished in
  state Completed()`) are left out unless `--verbose`; a failure this project expects (bad
  input, a reject rate over the limit, an unreadable schedule, a held lock, …) is already
  explained by the summary, so Prefect's report of it (a traceback per failed task and flow
  run) is left out as well, and a retry warning caused by one keeps its line but loses its
  traceback. Anything else, a bug, still prints its traceback. `--debug` leaves Prefect's
  console untouched. Only the console is filtered: Prefect's API (its UI) gets every line.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import re
from collections.abc import Iterator

STATE_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")
# Prefect's one-line report of a failed run: "Finished in state Failed('Task run encountered an
# exception RejectThresholdExceeded: …')"
_FAILED_WITH = re.compile(r"exception:? (\w+)[:(]")


def telemetry_off() -> None:
    """Prefect's client analytics off (DO_NOT_TRACK=1) unless the environment says otherwise.
    Call before Prefect is imported."""
    os.environ.setdefault("DO_NOT_TRACK", "1")


def expected_errors() -> tuple[type[BaseException], ...]:
    """The failures a run explains in its summary (bad input or reference data, the reject
    limit, the lock, I/O): never a traceback for these."""
    from flows.inputs.files import InputSchemaError
    from flows.inputs.refund_rules import RefundRulesError
    from flows.inputs.scenarios import ScenarioFileError
    from flows.inputs.schedule import ScheduleError
    from flows.run.monthly import RunFailed
    from flows.run.stages import RejectThresholdExceeded
    from flows.warehouse.lock import LockHeld
    from flows.warehouse.publish import PublishError
    from transforms.fees import FeeError
    from transforms.scenario import ScenarioError

    return (
        InputSchemaError, RefundRulesError, ScenarioFileError, ScheduleError, RejectThresholdExceeded,
        RunFailed, LockHeld, PublishError, FeeError, ScenarioError, OSError,
    )


class PrefectConsoleFilter(logging.Filter):
    """The filter on Prefect's console handler (see the module docstring)."""

    def __init__(self, handler: logging.Handler, expected: tuple[type[BaseException], ...], verbose: bool):
        super().__init__("tariffcost")
        self.handler = handler
        self.expected = expected
        self.names = {cls.__name__ for cls in expected}
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and isinstance(error, self.expected):
            if record.levelno < logging.ERROR:  # e.g. a retry: keep the line, not the traceback
                plain = copy.copy(record)
                plain.exc_info, plain.exc_text = None, None
                self.handler.handle(plain)
            return False
        if record.name.startswith(STATE_LOGGERS):
            if record.levelno < logging.WARNING:
                return self.verbose
            failed = _FAILED_WITH.search(record.getMessage())
            if error is None and failed and failed.group(1) in self.names:
                return False
        return True


@contextlib.contextmanager
def quiet_prefect_console(*, verbose: bool = False, debug: bool = False) -> Iterator[None]:
    """Filter Prefect's console handlers (on the root logger, set up when Prefect is first
    imported) for the duration of a flow call; nothing with `debug`."""
    if debug:
        yield
        return
    from prefect.logging.handlers import PrefectConsoleHandler

    expected = expected_errors()
    installed = [
        (handler, PrefectConsoleFilter(handler, expected, verbose))
        for handler in logging.getLogger().handlers
        if isinstance(handler, PrefectConsoleHandler)
    ]
    for handler, console_filter in installed:
        handler.addFilter(console_filter)
    try:
        yield
    finally:
        for handler, console_filter in installed:
            handler.removeFilter(console_filter)
