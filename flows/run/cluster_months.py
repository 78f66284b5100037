"""The cluster path's worker side: what one month (or one entry-hash partition of a large
month) does on a Dask worker. Each runs the month lifecycle of flows/run/lifecycle.py and writes
its tables as Parquet to the month's staging folder, returning only a small summary
(`StagedMonth`, `StagedPartition`); the coordinator (flows/run/distributed.py) publishes.
A month whose data fails is returned as failed; an I/O error propagates so that Prefect
retries the task.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from flows.inputs.customs import load_customs_lines
from flows.inputs.kinds import load_input
from flows.inputs.staging import LoadResult
from flows.run.lifecycle import (
    MonthRun,
    RunResult,
    error_text,
    input_checksums,
    month_tables,
    start_record,
    timed,
)
from flows.run.marts import LINES_MART, LINES_TABLE, MonthContext
from flows.run.partitions import entry_partition
from flows.run.stages import compute_stage, is_io_error, load_stage
from flows.run.storage import join, local_input, named_after, read_frame, write_frame
from flows.warehouse.journal import RunRecord
from transforms.schedule import Schedule

STG_TABLE = "stg_customs_lines"
LOAD_REJECTS = "load_rejects"
CUSTOMS = "customs"


def load_inputs(month: str, inputs: Mapping[str, str], schedule: Schedule) -> dict[str, Any]:
    """The load stage (flows/run/lifecycle.py) over local copies of the inputs."""
    local = {kind: local_input(location) for kind, location in inputs.items()}
    loaded = load_stage(month, local, schedule)
    return {kind: named_after(result, str(inputs[kind])) for kind, result in loaded.items()}


# --------------------------------------------------------------------------------------------
# what tasks return (small: frames stay in the staging area)


@dataclass
class StagedMonth:
    """One month computed on the cluster: its result (for the summary), its `runs` row and
    the staged Parquet of each table (table -> location), or a failure (status `failed`)."""

    result: RunResult
    record: RunRecord
    tables: dict[str, str] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)


@dataclass
class StagedPartition:
    """One entry-hash partition of a month: staged stg lines, fct_duty_lines and load rejects
    (table -> location), its input counts and checksums, or the error that failed it."""

    month: str
    index: int
    rows_in: int = 0
    tables: dict[str, str] = field(default_factory=dict)
    input_checksums: dict[str, dict] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class MonthJob:
    """Everything a worker needs for one month (picklable, no open handles)."""

    month: str
    run_id: str
    inputs: dict[str, str]
    schedule: Schedule
    max_reject_rate: float
    scenarios: tuple[str, ...]
    staging: str  # this month's staging folder (path or URL)
    allow_empty: bool = False  # publish the month even when its inputs hold no row of it

    def record(self, **changes) -> RunRecord:
        return start_record(self.run_id, self.month, self.schedule, self.scenarios).replace(**changes)

    def start(self, **kwargs) -> MonthRun:
        """The month's lifecycle (flows/run/lifecycle.py), started on the worker."""
        return MonthRun.start(self.run_id, self.month, self.schedule, self.scenarios, **kwargs)


def _staged(job: MonthJob, run: MonthRun, tables: Mapping[str, pl.DataFrame], exports: dict[str, str]) -> StagedMonth:
    """Write the month's tables to its staging folder: a successful StagedMonth."""
    staged = run.timed("stage", lambda: {
        name: write_frame(frame, join(job.staging, f"{name}.parquet")) for name, frame in tables.items()
    })
    run.success_record()
    return StagedMonth(result=run.succeeded(), record=run.record, tables=staged, exports=exports)


def _failed(run: MonthRun, error: Exception) -> StagedMonth:
    """A month whose data failed (journaled by the coordinator); an I/O error propagates, so
    that Prefect retries the task."""
    if is_io_error(error):  # transient storage trouble: the task is retried
        raise error
    run.fail(error)
    return StagedMonth(result=run.result, record=run.record)


def stage_month(job: MonthJob) -> StagedMonth:
    """A whole month on a worker: load, validate, compute (the month lifecycle of
    flows/run/lifecycle.py), then its tables to the staging area. A month whose data fails is
    returned as failed; only an unexpected BaseException escapes."""
    run = job.start()
    try:
        loaded = run.timed("load", load_inputs, job.month, job.inputs, job.schedule)
        tables, exports = month_tables(run, loaded, max_reject_rate=job.max_reject_rate, scenarios=job.scenarios,
                                       allow_empty=job.allow_empty)
        del loaded
        return _staged(job, run, tables, exports)
    except Exception as error:
        return _failed(run, error)


def stage_partition(job: MonthJob, index: int, count: int) -> StagedPartition:
    """Partition `index` of `count` of a large month: its entries' customs lines, loaded,
    checked row by row and priced (fct_duty_lines, fees per whole entry), staged. The reject
    threshold is applied by `merge_partitions` to the whole month."""
    part = StagedPartition(month=job.month, index=index)
    folder = join(job.staging, f"part={index}")
    try:
        location = job.inputs[CUSTOMS]
        loaded = timed(
            part.stage_seconds, "load", load_customs_lines, local_input(location), job.month,
            job.schedule, rows=entry_partition(index, count),
        )
        loaded = named_after(loaded, str(location))
        part.rows_in = int(loaded.rows_in)
        part.input_checksums = input_checksums({CUSTOMS: loaded})
        ctx = MonthContext(month=job.month, schedule=job.schedule, loaded={CUSTOMS: loaded}, scenarios=job.scenarios)
        lines = timed(part.stage_seconds, "compute", compute_stage, ctx, [LINES_MART])[LINES_TABLE]
        part.tables = {
            STG_TABLE: write_frame(loaded.stg, join(folder, f"{STG_TABLE}.parquet")),
            LINES_TABLE: write_frame(lines, join(folder, f"{LINES_TABLE}.parquet")),
            LOAD_REJECTS: write_frame(loaded.rejects, join(folder, f"{LOAD_REJECTS}.parquet")),
        }
    except Exception as error:
        if is_io_error(error):  # transient storage trouble: the task is retried
            raise
        part.error = error_text(error)
    return part


def _merged_inputs(
    job: MonthJob, run: MonthRun, parts: Sequence[StagedPartition]
) -> tuple[dict[str, Any], pl.DataFrame]:
    """The partitions' customs lines and rejects concatenated, the other inputs loaded against
    them; and the merged fct_duty_lines."""
    failed = [p for p in parts if p.error is not None]
    if failed:
        raise RuntimeError(failed[0].error)

    def merged(table: str, *order: str) -> pl.DataFrame:
        return pl.concat([read_frame(p.tables[table]) for p in parts], how="vertical").sort(*order)

    def merge() -> tuple[LoadResult, pl.DataFrame]:
        first = parts[0].input_checksums[CUSTOMS]
        customs = LoadResult(
            stg=merged(STG_TABLE, "entry_number", "line_number"),
            rejects=merged(LOAD_REJECTS, "row_number", "column", "check"),
            rows_in=run.result.rows_in,
            checksum_sha256=first["sha256"],
            source=first["path"],
        )
        return customs, merged(LINES_TABLE, "entry_number", "line_number")

    customs, lines = run.timed("merge", merge)
    loaded: dict[str, Any] = {CUSTOMS: customs}
    others = {k: v for k, v in job.inputs.items() if k != CUSTOMS}
    if others:
        def load_others() -> None:
            for kind, location in others.items():
                result = load_input(kind, local_input(location), job.month, job.schedule, loaded,
                                    lambda dep: local_input(job.inputs[dep]))
                loaded[kind] = named_after(result, str(location))

        run.timed("load", load_others)
    return loaded, lines


def merge_partitions(job: MonthJob, parts: Sequence[StagedPartition]) -> StagedMonth:
    """A partitioned month made whole: lines and rejects concatenated, the reject threshold on
    the whole month, the other inputs loaded against the merged lines, the other marts built
    from the merged fct_duty_lines, all staged like `stage_month`."""
    timings: dict[str, float] = {}
    for part in parts:
        for stage, seconds in part.stage_seconds.items():
            timings[stage] = round(timings.get(stage, 0.0) + seconds, 3)
    run = job.start(timings=timings, rows_in=sum(p.rows_in for p in parts))
    try:
        loaded, lines = _merged_inputs(job, run, parts)
        tables, exports = month_tables(run, loaded, max_reject_rate=job.max_reject_rate,
                                       scenarios=job.scenarios, built={LINES_TABLE: lines},
                                       allow_empty=job.allow_empty)
        del loaded, lines
        return _staged(job, run, tables, exports)
    except Exception as error:
        return _failed(run, error)
