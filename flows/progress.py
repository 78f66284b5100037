"""Progress within a stage, for the run's progress display (flows/present/run_progress.py:
`RunProgress`). The long steps report how far they are (`report("reading", done, total,
"bytes")`): the load's streamed pass over the input file, the publish table by table; the
display listens while it is shown. Without a listener a report costs one comparison."""

from __future__ import annotations

from collections.abc import Callable

Listener = Callable[[str, int, int | None, str], None]
_listener: Listener | None = None


def listen(listener: Listener | None) -> Listener | None:
    """Make `listener` receive the reports (None: nobody); returns the previous listener."""
    global _listener
    previous, _listener = _listener, listener
    return previous


def report(step: str, done: int, total: int | None, unit: str) -> None:
    """`done` of `total` `unit`s of `step` (total None: not known)."""
    if _listener is not None:
        _listener(step, done, total, unit)
