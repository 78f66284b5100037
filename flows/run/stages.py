"""The stages of one month — load, validate, compute — as plain functions over the input kinds
(flows/inputs/kinds.py) and the mart registry (flows/run/marts.py), and `Stages`, the stage
callables a run uses: these functions, or the Prefect tasks that wrap them
(flows/run/monthly.py, with `retry_on_io_error` as their retry condition). The lifecycle
around them (records, counts, the tables to publish) is flows/run/lifecycle.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from flows.inputs.kinds import load_input, load_order, month_inputs
from flows.present.findings import ProblemSummary, worst_problems
from flows.run.marts import MARTS, Mart, MonthContext
from flows.warehouse.testing import pause_point
from transforms.frames import constants_as_literals
from transforms.schedule import Schedule


class RejectThresholdExceeded(RuntimeError):
    """Too many input rows were rejected: the month is not published."""

    def __init__(self, validated: Validated, max_reject_rate: float):
        super().__init__(
            f"{validated.rows_rejected} of {validated.rows_in} input rows rejected "
            f"({validated.reject_rate:.2%}) exceeds --max-reject-rate {max_reject_rate:.2%}"
        )
        self.validated = validated


@dataclass(frozen=True)
class Validated:
    """The validate stage's verdict on the loaded inputs."""

    rows_in: int
    rows_rejected: int
    rejects: pl.DataFrame | None  # with run_id; None when no input is row-checked
    problems: list[ProblemSummary]

    @property
    def reject_rate(self) -> float:
        return self.rows_rejected / self.rows_in if self.rows_in else 0.0


def load_stage(
    month: str, inputs: Mapping[str, Path], schedule: Schedule, customs_map: str | None = None
) -> dict[str, Any]:
    """Read every given input for the month (I/O; `{month}` in a path is the month); kinds
    that need other inputs after them, which they receive as `context`; the customs input
    through `customs_map` when given."""
    pause_point("load")
    inputs = month_inputs(inputs, month)
    loaded: dict[str, Any] = {}
    options = {"customs": {"customs_map": customs_map}} if customs_map else {}
    for kind in load_order(inputs):
        loaded[kind] = load_input(kind, Path(inputs[kind]), month, schedule, loaded, lambda dep: Path(inputs[dep]),
                                  **options.get(kind, {}))
    return {kind: loaded[kind] for kind in inputs}


def _rows_rejected(rejects: pl.DataFrame) -> int:
    return rejects.select(pl.struct("source", "row_number").n_unique()).item() if rejects.height else 0


def validate_stage(
    month: str, loaded: Mapping[str, Any], run_id: str, max_reject_rate: float
) -> Validated:
    """Count input rows and quarantined rows; refuse the month when the reject rate is above
    `max_reject_rate` (RejectThresholdExceeded, with the worst problems)."""
    frames = [result.rejects for result in loaded.values() if hasattr(result, "rejects")]
    rejects = (
        pl.concat(frames, how="vertical").with_columns(run_id=pl.lit(run_id, pl.Utf8))
        if frames
        else None
    )
    validated = Validated(
        rows_in=sum(int(result.rows_in) for result in loaded.values()),
        rows_rejected=_rows_rejected(rejects) if rejects is not None else 0,
        rejects=rejects,
        problems=worst_problems(rejects),
    )
    if validated.reject_rate > max_reject_rate:
        raise RejectThresholdExceeded(validated, max_reject_rate)
    return validated


def compute_stage(ctx: MonthContext, marts: Sequence[Mart] | None = None) -> dict[str, pl.DataFrame]:
    """Build and validate every mart whose inputs are present, in registry order."""
    pause_point("compute")
    for mart in MARTS if marts is None else marts:
        if not all(kind in ctx.loaded for kind in mart.needs):
            continue
        frame = mart.build(ctx)
        if frame is None:
            continue
        # (a column with one value on every row is held as that value once)
        ctx.marts[mart.table] = constants_as_literals(mart.validate(frame))
    return dict(ctx.marts)


def is_io_error(error: BaseException | None) -> bool:
    """An I/O error worth retrying (not a missing file or a permission problem)."""
    permanent = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)
    while error is not None:
        if isinstance(error, OSError) and not isinstance(error, permanent):
            return True
        if isinstance(error, duckdb.IOException):
            return True
        error = error.__cause__ or error.__context__
    return False


def retry_on_io_error(task, task_run, state) -> bool:
    """Prefect retry condition: retry a task that failed with an I/O error."""
    try:
        state.result()
    except Exception as error:
        return is_io_error(error)
    return False


@dataclass(frozen=True)
class Stages:
    """The stage callables of a run (plain functions, or Prefect tasks wrapping them)."""

    load: Callable = load_stage
    validate: Callable = validate_stage
    compute: Callable = compute_stage
    publish: Callable | None = None


PLAIN_STAGES = Stages()


