"""One month's lifecycle — load, validate, compute, and the records and counts a month is
published (or refused) with — shared by the sequential run (flows/run/monthly.py `run_month`)
and the cluster path (flows/run/distributed.py: the month task and the partition merge).

The stages (`load_stage`, `validate_stage`, `compute_stage`) are flows/run/stages.py's. A
`MonthRun` carries one month's `RunResult`, its `runs` record and stage timings through the
stages: `month_tables` validates and computes loaded inputs into the tables to publish and
fills in the success counts (rows in, rows rejected, refused-row capture, rows_published,
warnings); `MonthRun.success_record` and `MonthRun.fail` give the month's journal entries;
`schedule_unreadable` journals a run whose schedule cannot be read. Where the tables go
(the warehouse at once, or a staging area first) is the caller's part.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from flows.inputs.kinds import input_warnings
from flows.present.findings import ProblemSummary, duty_by_program, run_warnings
from flows.present.run_progress import RunProgress
from flows.run.marts import LINES_TABLE, MARTS, REJECTS_TABLE, Mart, MonthContext, mart_exports
from flows.run.month_state import PublishedMonth, replaced, stale_tables, stale_warning
from flows.run.stages import PLAIN_STAGES, RejectThresholdExceeded, Stages, Validated
from flows.warehouse.journal import RunRecord, append_journal, utc_now
from transforms.schedule import Schedule


class EmptyMonth(RuntimeError):
    """The month's inputs hold no rows of it: publishing would replace the month with nothing."""


def check_month_has_rows(month: str, loaded: Mapping[str, Any], allow_empty: bool) -> None:
    """EmptyMonth when the inputs hold no row of the month (or the customs lines, which every
    duty mart is built from, hold none), unless `allow_empty`."""
    if allow_empty:
        return
    empty = [kind for kind, result in loaded.items() if int(result.rows_in) == 0]
    if "customs" in empty or len(empty) == len(loaded):
        kind = "customs" if "customs" in empty else empty[0]
        raise EmptyMonth(
            f"no rows for {month} in {loaded[kind].source} (--{kind}): publishing it would replace "
            f"the month with nothing, so nothing was published; pass --allow-empty to publish "
            f"{month} empty"
        )


@dataclass
class RunResult:
    """The outcome of one month, for the summary and the caller."""

    run_id: str
    month: str
    status: str  # success | failed
    rows_in: int = 0
    rows_rejected: int = 0
    rows_published: int = 0
    rows_in_by_input: dict[str, int] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    duty_by_program: dict[str, Decimal] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    problems: list[ProblemSummary] = field(default_factory=list)
    error: str | None = None
    exports: dict[str, Path] = field(default_factory=dict)
    replaced: dict[str, int] = field(default_factory=dict)  # table → rows of the month before
    replaced_run: str | None = None  # the run those rows came from
    report: Any = None  # the month's report (flows/present/report.py ReportResult), if written
    report_problem: str | None = None  # why the month has no report (its old one was removed)


# --------------------------------------------------------------------------------------------
# one month's records and counts


def new_batch_id() -> str:
    """A sortable id for one invocation; each month's run_id is `<batch>-<YYYY-MM>`."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def input_checksums(loaded: Mapping[str, Any]) -> dict[str, dict]:
    """kind → path, sha256 and rows_in of each loaded input (the `runs` record's inputs)."""
    return {
        kind: {"path": str(result.source), "sha256": result.checksum_sha256, "rows_in": int(result.rows_in)}
        for kind, result in loaded.items()
    }


def error_text(error: BaseException) -> str:
    """The message a failed month is journaled and reported with."""
    return str(error) or type(error).__name__


def timed(timings: dict[str, float], stage: str, call: Callable, *args, **kwargs):
    """`call(*args, **kwargs)`, its seconds added to `timings[stage]`."""
    started = time.perf_counter()
    try:
        return call(*args, **kwargs)
    finally:
        timings[stage] = round(timings.get(stage, 0.0) + time.perf_counter() - started, 3)


def start_record(run_id: str, month: str, schedule: Schedule, scenarios: Sequence[str]) -> RunRecord:
    """The `running` record journaled when a month starts."""
    return RunRecord(
        run_id=run_id,
        month=month,
        started_at=utc_now(),
        status="running",
        schedule_version=schedule.version,
        schedule_source=schedule.source,
        scenarios=list(scenarios),
    )


@dataclass
class MonthRun:
    """One month in progress: its result (for the summary), its `runs` record and its stage
    timings (stage → seconds; a stage timed twice adds up)."""

    result: RunResult
    record: RunRecord
    schedule: Schedule
    timings: dict[str, float] = field(default_factory=dict)
    progress: RunProgress | None = None

    @classmethod
    def start(cls, run_id: str, month: str, schedule: Schedule, scenarios: Sequence[str], *,
              progress: RunProgress | None = None, timings: Mapping[str, float] | None = None,
              rows_in: int = 0) -> MonthRun:
        return cls(
            result=RunResult(run_id=run_id, month=month, status="failed", rows_in=rows_in),
            record=start_record(run_id, month, schedule, scenarios),
            schedule=schedule, timings=dict(timings or {}), progress=progress,
        )

    def timed(self, stage: str, call: Callable, *args, **kwargs):
        if self.progress is not None:
            self.progress.stage(self.result.month, stage)
        return timed(self.timings, stage, call, *args, **kwargs)

    def loaded(self, loaded: Mapping[str, Any]) -> None:
        """Record what was loaded: input checksums and rows per input."""
        self.record = self.record.replace(input_checksums=input_checksums(loaded))
        self.result.rows_in_by_input = {kind: int(r.rows_in) for kind, r in loaded.items()}

    def counted(self, validated: Validated) -> None:
        """Record the validate stage's counts (also for a refused month)."""
        self.result.rows_in, self.result.rows_rejected = validated.rows_in, validated.rows_rejected
        self.result.problems = validated.problems

    def tables_done(self, loaded: Mapping[str, Any], tables: dict[str, pl.DataFrame],
                    validated: Validated, marts: Sequence[Mart]) -> dict[str, str]:
        """Warnings, the refused-row capture (`rejects`, added to `tables`), table counts and
        rows_published; returns the exports (table → folder) of the month's tables."""
        lines = tables.get(LINES_TABLE)
        self.result.duty_by_program = duty_by_program(lines)
        self.result.warnings = (
            run_warnings(lines, self.schedule) + input_warnings(tables, loaded)
        )
        if validated.rejects is not None:
            tables[REJECTS_TABLE] = validated.rejects
        self.result.tables = {name: frame.height for name, frame in tables.items()}
        self.result.rows_published = (
            lines.height if lines is not None
            else sum(n for name, n in self.result.tables.items() if name != REJECTS_TABLE)
        )
        return mart_exports(marts, tables)

    def success_record(self) -> RunRecord:
        """The `success` record, with the counts and timings so far."""
        result = self.result
        self.record = self.record.replace(
            status="success",
            finished_at=utc_now(),
            rows_in=result.rows_in,
            rows_rejected=result.rows_rejected,
            rows_published=result.rows_published,
            tables_published=result.tables,
            stage_timings=dict(self.timings),
            warnings=result.warnings,
        )
        return self.record

    def succeeded(self) -> RunResult:
        self.result.status = "success"
        self.result.stage_seconds = dict(self.timings)
        return self.result

    def fail(self, error: BaseException) -> RunRecord:
        """The month failed (nothing of it is published): the `failed` record."""
        result = self.result
        result.status = "failed"
        result.error = error_text(error)
        result.stage_seconds = dict(self.timings)
        self.record = self.record.replace(
            status="failed",
            finished_at=utc_now(),
            rows_in=result.rows_in,
            rows_rejected=result.rows_rejected,
            rows_published=0,
            tables_published={},
            stage_timings=dict(self.timings),
            error_message=result.error,
            warnings=result.warnings,
        )
        return self.record


def month_tables(
    run: MonthRun,
    loaded: Mapping[str, Any],
    *,
    max_reject_rate: float,
    scenarios: Sequence[str],
    stages: Stages = PLAIN_STAGES,
    marts: Sequence[Mart] | None = None,
    built: Mapping[str, pl.DataFrame] | None = None,
    allow_empty: bool = False,
) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """Validate and compute a month's loaded inputs: the tables to publish (marts and
    `rejects`) and their exports. `built` holds marts already computed elsewhere (the merged
    partitions' fct_duty_lines): they are checked against their contract, not rebuilt.
    RejectThresholdExceeded (with the counts recorded) when too many rows are rejected;
    EmptyMonth when the inputs hold no row of the month (unless `allow_empty`)."""
    marts = MARTS if marts is None else marts
    run.loaded(loaded)
    check_month_has_rows(run.result.month, loaded, allow_empty)
    try:
        validated = run.timed(
            "validate", stages.validate, run.result.month, loaded, run.result.run_id, max_reject_rate
        )
    except RejectThresholdExceeded as refused:
        run.counted(refused.validated)
        raise
    run.counted(validated)
    done = {m.table: m.validate(built[m.table]) for m in marts if built and m.table in built}
    ctx = MonthContext(month=run.result.month, schedule=run.schedule, loaded=loaded,
                       scenarios=tuple(scenarios), marts=done)
    tables = dict(run.timed("compute", stages.compute, ctx, [m for m in marts if m.table not in done]))
    return tables, run.tables_done(loaded, tables, validated, marts)


def replace_whole_month(run: MonthRun, published: PublishedMonth, tables: dict[str, pl.DataFrame],
                        exports: dict[str, str], inputs: Mapping[str, object]) -> None:
    """Make the month's publish replace the whole month: a registry table that holds rows of
    the month but that this run does not build (the vehicle marts of a run without
    --vehicles) is published empty, with a warning naming it, since its rows were computed
    from other inputs; the result lists the tables whose rows the run replaces."""
    registry = {m.table: m for m in MARTS}
    stale = [t for t in stale_tables(published, list(tables)) if t in registry]
    for table in stale:
        tables[table] = pl.DataFrame()  # no columns: the month's rows are removed
        if registry[table].export:
            exports[table] = registry[table].export
        run.result.tables[table] = 0
    if stale:
        run.result.warnings.append(stale_warning(published, stale, inputs))
    run.result.replaced = replaced(published, list(tables))
    run.result.replaced_run = published.run_id


def schedule_unreadable(db_path: Path, batch_id: str, month: str, scenarios: Sequence[str],
                        error: BaseException) -> RunResult:
    """A run whose schedule cannot be read: its first month journaled as failed."""
    failed = RunResult(
        run_id=f"{batch_id}-{month}", month=month, status="failed",
        error=f"cannot read the schedule: {error}",
    )
    append_journal(
        db_path,
        RunRecord(
            run_id=failed.run_id, month=failed.month, started_at=utc_now(),
            finished_at=utc_now(), status="failed", error_message=failed.error,
            scenarios=list(scenarios),
        ),
    )
    return failed
