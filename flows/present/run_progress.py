"""The run's progress display on stderr (`RunProgress`): months done, the current stage, and
within a long stage how far it is (flows/progress.py reports)."""

from __future__ import annotations

import sys


class RunProgress:
    """A rich progress display on stderr: months done, the current stage, and within a long
    stage how far it is (flows/progress.py: bytes read, tables published); Prefect's log
    lines are printed through the same console. Silent when stderr is not a terminal."""

    def __init__(self, months: int, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._months = months
        self._progress = None
        self._task = None
        self._step_task = None
        self._previous_listener = None
        self._prefect_consoles: list = []

    def __enter__(self) -> RunProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[counter]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("starting", total=self._months, counter=self._counter(0))
            self._step_task = self._progress.add_task("", total=None, visible=False, counter="")
            self._route_prefect_console(self._progress.console)
            from flows import progress

            self._previous_listener = progress.listen(self.step)
        return self

    def _counter(self, done: int) -> str:
        return f"{done}/{self._months} months"

    def _route_prefect_console(self, console) -> None:
        """Prefect's log lines go through the progress display's console while it is shown
        (printed above the bar instead of through it)."""
        import logging

        from prefect.logging.handlers import PrefectConsoleHandler

        self._prefect_consoles = [
            (handler, handler.console)
            for handler in logging.getLogger().handlers
            if isinstance(handler, PrefectConsoleHandler)
        ]
        for handler, _ in self._prefect_consoles:
            handler.console = console

    def stage(self, month: str, stage: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=f"{month} {stage}")
            self._progress.update(self._step_task, visible=False)

    def step(self, step: str, done: int, total: int | None, unit: str) -> None:
        """A long stage's report (flows/progress.py: `report`)."""
        if self._progress is not None:
            counter = f"{done:,}/{total:,} {unit}" if total else f"{done:,} {unit}"
            self._progress.update(
                self._step_task, description=f"  {step}", completed=done, total=total, counter=counter, visible=True
            )

    def month_done(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)
            done = int(self._progress.tasks[0].completed)
            self._progress.update(self._task, counter=self._counter(done))
            self._progress.update(self._step_task, visible=False)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            from flows import progress

            progress.listen(self._previous_listener)
            for handler, console in self._prefect_consoles:
                handler.console = console
            self._progress.__exit__(*exc)
