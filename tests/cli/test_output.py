"""Prefect's console for a batch command (flows/cli/output.py): state lines only with
--verbose, no traceback for an expected failure, a bug's traceback kept, telemetry off unless
the user chose."""

from __future__ import annotations

import io
import logging
import sys

from prefect.logging.handlers import PrefectConsoleHandler

from flows.cli.output import PrefectConsoleFilter, expected_errors, telemetry_off
from flows.run.stages import RejectThresholdExceeded
from flows.warehouse.lock import LockHeld


def _console(verbose: bool) -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    handler.addFilter(PrefectConsoleFilter(handler, expected_errors(), verbose))
    return handler, stream


def _record(name: str, level: int, message: str, error: BaseException | None = None) -> logging.LogRecord:
    exc_info = None
    if error is not None:
        try:
            raise error
        except BaseException:
            exc_info = sys.exc_info()
    return logging.LogRecord(name, level, __file__, 1, message, None, exc_info)


def test_state_lines_only_with_verbose():
    line = _record("prefect.task_runs", logging.INFO, "Finished in state Completed()")
    for verbose, shown in ((False, ""), (True, "Finished in state Completed()")):
        handler, stream = _console(verbose)
        handler.handle(line)
        assert shown in stream.getvalue() and (verbose or stream.getvalue() == "")


def test_an_expected_failure_prints_no_traceback_and_a_bug_keeps_its_own():
    handler, stream = _console(verbose=False)
    lock = LockHeld("another run holds the warehouse lock")
    handler.handle(_record("prefect.task_runs", logging.ERROR, "Task run failed with exception", lock))
    handler.handle(_record("prefect.flow_runs", logging.ERROR,
                           "Finished in state Failed('Task run encountered an exception LockHeld: held')"))
    assert stream.getvalue() == ""
    handler.handle(_record("prefect.task_runs", logging.ERROR, "Task run failed", KeyError("bug")))
    assert "Traceback" in stream.getvalue() and "KeyError" in stream.getvalue()


def test_a_retry_of_an_expected_error_keeps_its_line_without_the_traceback():
    handler, stream = _console(verbose=False)
    handler.handle(_record("prefect.task_runs", logging.WARNING, "Retry 1/3 will start", OSError(5, "I/O error")))
    assert stream.getvalue().strip() == "prefect.task_runs WARNING Retry 1/3 will start"


def test_the_filter_is_on_prefects_console_handlers_only_while_a_flow_runs():
    import prefect.main  # noqa: F401  (sets up Prefect's logging, as a batch command's import does)

    from flows.cli.output import quiet_prefect_console

    consoles = [h for h in logging.getLogger().handlers if isinstance(h, PrefectConsoleHandler)]
    assert consoles
    with quiet_prefect_console():
        assert all(any(isinstance(f, PrefectConsoleFilter) for f in h.filters) for h in consoles)
    assert not any(isinstance(f, PrefectConsoleFilter) for h in consoles for f in h.filters)
    with quiet_prefect_console(debug=True):
        assert not any(isinstance(f, PrefectConsoleFilter) for h in consoles for f in h.filters)


def test_reject_threshold_is_an_expected_failure():
    assert issubclass(RejectThresholdExceeded, expected_errors())


def test_telemetry_off_keeps_a_users_choice(monkeypatch):
    monkeypatch.delenv("DO_NOT_TRACK", raising=False)
    telemetry_off()
    import os

    assert os.environ["DO_NOT_TRACK"] == "1"
    monkeypatch.setenv("DO_NOT_TRACK", "0")
    telemetry_off()
    assert os.environ["DO_NOT_TRACK"] == "0"
