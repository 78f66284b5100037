"""Backfills on a Dask cluster, through Prefect's Dask task runner (prefect-dask).

`tariffcost backfill … --cluster tcp://HOST:8786` (a running `dask scheduler`) or
`--workers N` (a local cluster of N worker processes) runs the months of the range in
parallel as Prefect tasks on the cluster:

- each month task loads its month of input, validates it, builds every mart (the month
  lifecycle of a single run, flows/run/lifecycle.py) and writes the month's tables as Parquet to a
  staging area (`<staging>/<batch_id>/month=YYYY-MM/<table>.parquet`), returning only a small
  summary;
- a month with more than `partition_lines` input lines is split by entry-number hash into
  partitions: each partition task loads only its entries and builds `fct_duty_lines` (MPF and
  HMF are per entry, and an entry never spans two partitions); a merge task concatenates the
  partitions, applies the reject threshold to the whole month and builds the other marts
  from the merged lines;
- the coordinator (the process running the flow) alone writes the DuckDB warehouse, once,
  with `publish_months` (flows/warehouse/publish.py): every month of the range in one atomic swap,
  holding the warehouse lock from start to end.

Results are the sequential run's, row for row. Failure semantics match `run_months`: a month
whose data fails (reject threshold, unreadable input, mart contract) is journaled as failed
and the months before it are published, the months after it are not. An I/O error (storage)
is retried by Prefect (2 retries); a task that still fails after that, or after Dask's
rescheduling of the tasks of a lost worker, fails the whole run: nothing is published.

Inputs and the staging area may be local paths or fsspec URLs (`s3://…`, `gcs://…`, …, with
the matching fsspec package installed on every machine), so that workers on other machines
read the same storage. A remote input is copied once per worker into a local cache
(`simplecache`), checked and loaded from there; the rejects and `runs` name the URL. The
warehouse and the exports are written by the coordinator only, on its own file system (the
atomic publish swaps files with `os.replace`).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.inputs.schedule import read_schedule
from flows.months import month_range, parse_month
from flows.present.run_progress import RunProgress
from flows.run.cluster_months import (
    CUSTOMS,
    MonthJob,
    StagedMonth,
    merge_partitions,
    stage_month,
    stage_partition,
)
from flows.run.flow_parameters import run_flow
from flows.run.lifecycle import (
    MonthRun,
    RunResult,
    error_text,
    new_batch_id,
    replace_whole_month,
    schedule_unreadable,
)
from flows.run.marts import LINES_TABLE
from flows.run.month_state import PublishedMonth, choose_scenarios, published_month
from flows.run.monthly import moved_journal_lines, report_writer, run_in_flow
from flows.run.options import DEFAULT_PARTITION_LINES, RunOptions, check_inputs, options_of, takes_run_parameters
from flows.run.partitions import month_line_counts, partition_plan
from flows.run.stages import retry_on_io_error
from flows.run.storage import join, read_frame, remove_tree
from flows.warehouse.journal import RunRecord, append_journal, utc_now
from flows.warehouse.lock import warehouse_lock
from flows.warehouse.publish import clean_leftovers, publish_months
from transforms.schedule import Schedule

STAGING_DIRNAME = ".cluster-staging"


class ClusterError(RuntimeError):
    """The cluster run failed as a whole (not one month's data): nothing was published."""


# --------------------------------------------------------------------------------------------
# where the work runs


@dataclass(frozen=True)
class ClusterSpec:
    """A running Dask scheduler (`address`) or a local cluster of `workers` processes."""

    address: str | None = None
    workers: int | None = None
    threads_per_worker: int = 1

    def __post_init__(self) -> None:
        if (self.address is None) == (self.workers is None):
            raise ValueError("give exactly one of --cluster ADDRESS and --workers N")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"--workers must be at least 1, got {self.workers}")

    def task_runner(self):
        """The Prefect task runner for this cluster."""
        from prefect_dask import DaskTaskRunner

        if self.address is not None:
            return DaskTaskRunner(address=self.address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": self.workers,
                "processes": True,
                "threads_per_worker": self.threads_per_worker,
                "host": "127.0.0.1",
                "dashboard_address": None,
                "silence_logs": logging.WARNING,
            }
        )


# --------------------------------------------------------------------------------------------
# Prefect tasks (whole months or partitions, never rows)

_TASK_OPTIONS = dict(cache_policy=NO_CACHE, persist_result=False, retries=2,
                     retry_delay_seconds=2, retry_condition_fn=retry_on_io_error)
plan_task = task(month_line_counts, name="count-lines", **_TASK_OPTIONS)
month_task = task(stage_month, name="stage-month", task_run_name="stage-{job.month}", **_TASK_OPTIONS)
partition_task = task(stage_partition, name="stage-partition",
                      task_run_name="stage-{job.month}-part-{index}-of-{count}", **_TASK_OPTIONS)
merge_task = task(merge_partitions, name="merge-partitions", task_run_name="merge-{job.month}", **_TASK_OPTIONS)


# --------------------------------------------------------------------------------------------
# the coordinator


def default_staging(db_path: Path) -> Path:
    """The staging area when none is given: beside the warehouse (on the coordinator's disk;
    give `--staging` a shared path or URL when workers run on other machines)."""
    return Path(db_path).parent / STAGING_DIRNAME


def _journal_failed(db_path: Path, records: Sequence[RunRecord], error: str) -> None:
    for record in records:
        append_journal(db_path, record.replace(status="failed", finished_at=utc_now(), rows_published=0,
                                               tables_published={}, error_message=error))


def _submit_months(jobs: Sequence[MonthJob], plan: Mapping[str, int], progress: RunProgress | None):
    """Submit every month (or its partitions and merge) as Prefect tasks; wait for all.
    Returns StagedMonth per month, in month order. Raises (ClusterError) when a task failed
    as a task (after Dask's rescheduling and Prefect's retries)."""
    from prefect.futures import wait

    futures = []
    for job in jobs:
        count = plan.get(job.month, 1)
        if count <= 1:
            futures.append(month_task.submit(job))
        else:
            parts = [partition_task.submit(job, index, count) for index in range(count)]
            futures.append(merge_task.submit(job, parts))
    wait(futures)
    staged = []
    for job, future in zip(jobs, futures, strict=True):
        try:
            staged.append(future.result())
        except Exception as error:
            raise ClusterError(f"month {job.month} failed on the cluster: {error_text(error)}") from error
        if progress is not None:
            progress.month_done()
    return staged


def run_cluster_backfill(
    months: Sequence[str],
    options: RunOptions,
    *,
    staging: str | None = None,
    partition_lines: int = DEFAULT_PARTITION_LINES,
    progress: RunProgress | None = None,
) -> list[RunResult]:
    """The coordinator's part, inside a flow whose task runner is the cluster: hold the
    warehouse lock, submit the months, publish the successful months before the first failed
    one in ONE swap. Never raises for a failed month (like run_months); ClusterError and
    PublishError end as failed results with nothing published."""
    for month in months:
        parse_month(month)
    check_inputs(options.inputs)
    inputs = {kind: str(location) for kind, location in options.inputs.items()}  # as given: paths or URLs
    db_path, exports_dir = Path(options.db_path), Path(options.exports_dir)
    with warehouse_lock(db_path, options.wait_lock_seconds):
        clean_leftovers(db_path, exports_dir)
        journal_warnings = moved_journal_lines(db_path)
        if not staging:  # what a killed coordinator left in the default staging area
            shutil.rmtree(default_staging(db_path), ignore_errors=True)
        batch_id = new_batch_id()
        try:
            schedule = read_schedule(options.schedule_path)
        except Exception as error:
            return [schedule_unreadable(db_path, batch_id, months[0], options.scenarios, error)]
        root = join(str(staging) if staging else str(default_staging(db_path)), batch_id)
        # each month is replaced as a unit (flows/run/month_state.py): its scenarios as last
        # published unless given, its tables the run does not build removed at the publish
        before = {m: published_month(db_path, m) for m in months}
        chosen = {m: choose_scenarios(options.scenarios, before[m]) for m in months}
        jobs = [
            MonthJob(month=m, run_id=f"{batch_id}-{m}", inputs=dict(inputs), schedule=schedule,
                     max_reject_rate=options.max_reject_rate, scenarios=tuple(chosen[m][0]),
                     staging=join(root, f"month={m}"), allow_empty=options.allow_empty)
            for m in months
        ]
        for job in jobs:  # a coordinator killed from here on leaves them `abandoned` in runs
            append_journal(db_path, job.record())
        try:
            plan = {m: 1 for m in months}
            if CUSTOMS in inputs:
                counts = plan_task.submit(inputs[CUSTOMS]).result()
                plan = partition_plan(months, counts, partition_lines)
            staged = _submit_months(jobs, plan, progress)
            for s in staged:
                _replace_whole_month(s, before[s.result.month], chosen[s.result.month][1], inputs)
            results = publish_staged(staged, db_path, exports_dir, schedule)
            if results:
                results[0].warnings[:0] = journal_warnings
        except Exception as error:
            message = f"the cluster run failed, nothing was published: {error_text(error)}"
            _journal_failed(db_path, [job.record() for job in jobs], message)
            return [RunResult(run_id=job.run_id, month=job.month, status="failed", error=message) for job in jobs]
        finally:
            remove_tree(root)
            if not staging:
                shutil.rmtree(default_staging(db_path), ignore_errors=True)
    return results


def _replace_whole_month(staged: StagedMonth, before: PublishedMonth, scenario_note: str | None,
                         inputs: Mapping[str, str]) -> None:
    """A staged month's part of the month-as-a-unit rule, at the coordinator: the tables the
    month holds but the run did not build are published empty (warned), the scenario choice
    and the replaced tables are said, in the result and the month's `runs` row."""
    if staged.result.status != "success":
        return
    frames = {t: pl.DataFrame() for t in staged.tables}  # only the names count here
    exports = dict(staged.exports)
    month_run = MonthRun(result=staged.result, record=staged.record, schedule=None)
    if scenario_note:
        staged.result.warnings.append(scenario_note)
    replace_whole_month(month_run, before, frames, exports, inputs)
    for table in frames:
        if table not in staged.tables:
            staged.tables[table] = None  # removed: published without rows
    staged.exports = exports
    staged.record = staged.record.replace(warnings=list(staged.result.warnings),
                                          tables_published=dict(staged.result.tables))


def publish_staged(staged: Sequence[StagedMonth], db_path: Path, exports_dir: Path,
                    schedule: Schedule | None = None) -> list[RunResult]:
    """Publish the months before the first failed one (run_months' semantics) in one swap;
    journal the failed month and the months after it."""
    first_failed = next((i for i, s in enumerate(staged) if s.result.status != "success"), len(staged))
    good, bad, skipped = staged[:first_failed], staged[first_failed:first_failed + 1], staged[first_failed + 1:]
    for s in bad:
        append_journal(db_path, s.record)
    if skipped:
        _journal_failed(db_path, [s.record for s in skipped],
                        f"not published: the earlier month {bad[0].result.month} failed")
    if good:
        exports = {table: export for s in good for table, export in s.exports.items()}
        with_lines = [s.result.month for s in good if s.tables.get(LINES_TABLE)]
        published = publish_months(
            db_path=db_path,
            exports_dir=exports_dir,
            months={
                s.result.month: {
                    t: (lambda loc=loc: read_frame(loc) if loc is not None else pl.DataFrame())
                    for t, loc in s.tables.items()
                }
                for s in good
            },
            exports=exports,
            runs=[s.record for s in good],
            reports=report_writer(schedule, with_lines) if schedule is not None else None,
        )
        for s, done in zip(good, published, strict=True):
            s.result.exports = dict(done.exports)
            s.result.report, s.result.report_problem = done.report, done.report_problem
    return [s.result for s in good] + [s.result for s in bad]


@run_flow("cluster-backfill-duty-runs")
@takes_run_parameters(leave_out=("customs_map",))
def cluster_backfill_duty_runs(
    start: str,
    end: str,
    cluster: str | None = None,
    workers: int | None = None,
    staging: str | None = None,
    partition_lines: int = DEFAULT_PARTITION_LINES,
    *,
    options: RunOptions | None = None,
    **parameters,
) -> list[RunResult]:
    """The backfill with the months computed on a Dask cluster (the task runner is set by
    `cluster_backfill`); the summary, artifacts and reports as for a sequential backfill. The
    workers read each input where it was given (a path or an fsspec URL)."""
    options = options_of(options, parameters)

    def runner(months: Sequence[str], opts: RunOptions, progress: RunProgress) -> list[RunResult]:
        return run_cluster_backfill(months, opts, staging=staging,
                                    partition_lines=partition_lines, progress=progress)

    return run_in_flow(month_range(start, end), options, runner=runner)


def cluster_backfill(start: str, end: str, *, cluster: str | None = None, workers: int | None = None,
                     **kwargs) -> list[RunResult]:
    """Run `cluster_backfill_duty_runs` with the Dask task runner of `--cluster ADDRESS` or
    `--workers N`. Raises RunFailed (flows/run/monthly.py) when a month failed."""
    spec = ClusterSpec(address=cluster, workers=workers)
    runner = cluster_backfill_duty_runs.with_options(task_runner=spec.task_runner())
    return runner(start=start, end=end, cluster=cluster, workers=workers, **kwargs)
