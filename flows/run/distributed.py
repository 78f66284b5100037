"""Backfills on a Dask cluster, through Prefect's Dask task runner (prefect-dask).

`tariffcost backfill … --cluster tcp://HOST:8786` (a running `dask scheduler`) or
`--workers N` (a local cluster of N worker processes) runs the months of the range in
parallel as Prefect tasks on the cluster:

- each month task loads its month of input, validates it, builds every mart (the same stage
  functions as a single run, flows/run/monthly.py) and writes the month's tables as Parquet to a
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

import dataclasses
import logging
import math
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec
import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.config import DEFAULT_MAX_REJECT_RATE
from flows.inputs.customs import load_customs_lines
from flows.inputs.files import is_parquet
from flows.inputs.kinds import load_input
from flows.inputs.schedule import read_schedule
from flows.months import month_range, parse_month
from flows.present.summary import RunProgress
from flows.run.lifecycle import (
    MonthRun,
    RunResult,
    compute_stage,
    input_checksums,
    is_io_error,
    load_stage,
    month_tables,
    new_batch_id,
    retry_on_io_error,
    schedule_unreadable,
    start_record,
    timed,
)
from flows.run.marts import LINES_MART, LINES_TABLE, MonthContext
from flows.run.monthly import run_in_flow
from flows.run.options import DEFAULT_PARTITION_LINES, RunOptions, build_options, check_inputs, given_inputs
from flows.warehouse.journal import RunRecord, append_journal, utc_now
from flows.warehouse.lock import warehouse_lock
from flows.warehouse.publish import clean_leftovers, publish_months
from transforms.schedule import Schedule
from transforms.stg_customs_lines import entry_number_key, iso_date

# Fixed seed of the entry-number hash: every worker must put an entry in the same partition
# (Polars' hash is stable for one Polars version; all machines run the locked versions).
PARTITION_SEED = 20_250_403
STAGING_DIRNAME = ".cluster-staging"
STG_TABLE = "stg_customs_lines"
LOAD_REJECTS = "load_rejects"
CUSTOMS = "customs"


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
# storage: local paths or fsspec URLs


def is_url(location: str | Path) -> bool:
    """True for `scheme://…` other than `file://`."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


def _fs(location: str) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, path = fsspec.core.url_to_fs(location)
    return fs, path


def join(location: str, *parts: str) -> str:
    """`location/part/…` for a path or a URL."""
    return "/".join([str(location).rstrip("/"), *parts])


def write_frame(frame: pl.DataFrame, location: str) -> str:
    """Write `frame` as one Parquet file at `location` (path or URL); returns the location."""
    fs, path = _fs(location)
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    with fs.open(path, "wb") as handle:
        frame.write_parquet(handle, compression="zstd")
    return location


def read_frame(location: str) -> pl.DataFrame:
    fs, path = _fs(location)
    with fs.open(path, "rb") as handle:
        return pl.read_parquet(handle)


def remove_tree(location: str) -> None:
    fs, path = _fs(location)
    if fs.exists(path):
        fs.rm(path, recursive=True)


def local_input(location: str | Path, cache_dir: str | None = None) -> Path:
    """A local file for an input: the path itself, or a cached local copy of a URL (copied
    once per machine and cache folder)."""
    text = str(location)
    if text.startswith("file://"):
        return Path(text.removeprefix("file://"))
    if not is_url(text):
        return Path(text)
    cache = cache_dir or str(Path(tempfile.gettempdir()) / "tariffcost-input-cache")
    return Path(fsspec.open_local(f"simplecache::{text}", simplecache={"cache_storage": cache}))


def _named_after(result: Any, location: str) -> Any:
    """A loader result whose `source` (and its rejects' `source`) is the URL it came from."""
    if not is_url(location) or not dataclasses.is_dataclass(result):
        return result
    changes: dict[str, Any] = {"source": location}
    rejects = getattr(result, "rejects", None)
    if isinstance(rejects, pl.DataFrame) and "source" in rejects.columns:
        changes["rejects"] = rejects.with_columns(source=pl.lit(location, pl.Utf8))
    return dataclasses.replace(result, **changes)


def load_inputs(month: str, inputs: Mapping[str, str], schedule: Schedule) -> dict[str, Any]:
    """The load stage of flows/run/monthly.py over local copies of the inputs."""
    local = {kind: local_input(location) for kind, location in inputs.items()}
    loaded = load_stage(month, local, schedule)
    return {kind: _named_after(result, str(inputs[kind])) for kind, result in loaded.items()}


# --------------------------------------------------------------------------------------------
# entry-hash partitions of a large month


def entry_partition(index: int, count: int) -> pl.Expr:
    """Over raw customs lines: the rows whose normalised entry number hashes to partition
    `index` of `count`. Every line of an entry hashes alike, so an entry is never split."""
    if not 0 <= index < count:
        raise ValueError(f"partition {index} is not in 0..{count - 1}")
    return (entry_number_key().hash(seed=PARTITION_SEED) % count) == index


def month_line_counts(location: str | Path) -> dict[str, int]:
    """Input lines per entry-date month of a customs file (CSV or Parquet), by a lazy scan of
    one column; rows whose date does not parse are not counted."""
    path = local_input(location)
    parquet = is_parquet(path)
    lazy = (
        pl.scan_parquet(path).select(pl.col("entry_date").cast(pl.Utf8))
        if parquet
        else pl.scan_csv(path, infer_schema=False).select("entry_date")
    )
    counts = (
        lazy.select(month=iso_date("entry_date").dt.strftime("%Y-%m"))
        .drop_nulls()
        .group_by("month")
        .len()
        .collect()
    )
    return dict(zip(counts["month"].to_list(), counts["len"].to_list(), strict=True))


def partition_plan(months: Sequence[str], counts: Mapping[str, int], partition_lines: int) -> dict[str, int]:
    """month -> number of partitions: ceil(lines / partition_lines), at least 1."""
    if partition_lines < 1:
        raise ValueError(f"--partition-lines must be at least 1, got {partition_lines}")
    return {m: max(1, math.ceil(counts.get(m, 0) / partition_lines)) for m in months}


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


def _error_text(error: BaseException) -> str:
    return str(error) or type(error).__name__


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
        tables, exports = month_tables(run, loaded, max_reject_rate=job.max_reject_rate, scenarios=job.scenarios)
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
        loaded = _named_after(loaded, str(location))
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
        part.error = _error_text(error)
    return part


@dataclass(frozen=True)
class MergedCustoms:
    """The customs loader's result rebuilt from the partitions (the fields the lifecycle
    reads of a loaded input: stg, rejects, rows_in, checksum_sha256, source)."""

    stg: pl.DataFrame
    rejects: pl.DataFrame
    rows_in: int
    checksum_sha256: str
    source: str


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

    def merge() -> tuple[MergedCustoms, pl.DataFrame]:
        first = parts[0].input_checksums[CUSTOMS]
        customs = MergedCustoms(
            stg=merged(STG_TABLE, "source_row"),
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
                loaded[kind] = _named_after(result, str(location))

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
                                       scenarios=job.scenarios, built={LINES_TABLE: lines})
        del loaded, lines
        return _staged(job, run, tables, exports)
    except Exception as error:
        return _failed(run, error)


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
            raise ClusterError(f"month {job.month} failed on the cluster: {_error_text(error)}") from error
        if progress is not None:
            progress.month_done()
    return staged


def run_cluster_backfill(
    months: Sequence[str],
    options: RunOptions,
    inputs: Mapping[str, str],
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
    check_inputs(inputs)
    db_path, exports_dir = Path(options.db_path), Path(options.exports_dir)
    with warehouse_lock(db_path, options.wait_lock_seconds):
        clean_leftovers(db_path, exports_dir)
        if not staging:  # what a killed coordinator left in the default staging area
            shutil.rmtree(default_staging(db_path), ignore_errors=True)
        batch_id = new_batch_id()
        try:
            schedule = read_schedule(options.schedule_path)
        except Exception as error:
            return [schedule_unreadable(db_path, batch_id, months[0], options.scenarios, error)]
        root = join(str(staging) if staging else str(default_staging(db_path)), batch_id)
        jobs = [
            MonthJob(month=m, run_id=f"{batch_id}-{m}", inputs=dict(inputs), schedule=schedule,
                     max_reject_rate=options.max_reject_rate, scenarios=tuple(options.scenarios),
                     staging=join(root, f"month={m}"))
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
            results = _publish_staged(staged, db_path, exports_dir)
        except Exception as error:
            message = f"the cluster run failed, nothing was published: {_error_text(error)}"
            _journal_failed(db_path, [job.record() for job in jobs], message)
            return [RunResult(run_id=job.run_id, month=job.month, status="failed", error=message) for job in jobs]
        finally:
            remove_tree(root)
            if not staging:
                shutil.rmtree(default_staging(db_path), ignore_errors=True)
    return results


def _publish_staged(staged: Sequence[StagedMonth], db_path: Path, exports_dir: Path) -> list[RunResult]:
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
        published = publish_months(
            db_path=db_path,
            exports_dir=exports_dir,
            months={
                s.result.month: {t: (lambda loc=loc: read_frame(loc)) for t, loc in s.tables.items()} for s in good
            },
            exports=exports,
            runs=[s.record for s in good],
        )
        for s, done in zip(good, published, strict=True):
            s.result.exports = dict(done.exports)
    return [s.result for s in good] + [s.result for s in bad]


@flow(name="cluster-backfill-duty-runs", log_prints=False)
def cluster_backfill_duty_runs(
    start: str,
    end: str,
    cluster: str | None = None,
    workers: int | None = None,
    staging: str | None = None,
    partition_lines: int = DEFAULT_PARTITION_LINES,
    customs: str | None = None,
    vehicles: str | None = None,
    census: str | None = None,
    db: str | None = None,
    exports: str | None = None,
    schedule_path: str | None = None,
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
    scenarios: list[str] | None = None,
    wait_lock_seconds: float = 0.0,
) -> list[RunResult]:
    """The backfill with the months computed on a Dask cluster (the task runner is set by
    `cluster_backfill`); the summary, artifacts and reports as for a sequential backfill."""
    options = build_options(
        customs=customs, vehicles=vehicles, census=census, db=db, exports=exports,
        schedule_path=schedule_path, max_reject_rate=max_reject_rate,
        scenarios=scenarios or (), wait_lock_seconds=wait_lock_seconds,
    )
    given = given_inputs({"customs": customs, "vehicles": vehicles, "census": census})
    inputs = given or {kind: str(path) for kind, path in options.inputs.items()}

    def runner(months: Sequence[str], opts: RunOptions, progress: RunProgress) -> list[RunResult]:
        return run_cluster_backfill(months, opts, inputs, staging=staging,
                                    partition_lines=partition_lines, progress=progress)

    return run_in_flow(month_range(start, end), options, runner=runner)


def cluster_backfill(start: str, end: str, *, cluster: str | None = None, workers: int | None = None,
                     **kwargs) -> list[RunResult]:
    """Run `cluster_backfill_duty_runs` with the Dask task runner of `--cluster ADDRESS` or
    `--workers N`. Raises RunFailed (flows/run/monthly.py) when a month failed."""
    spec = ClusterSpec(address=cluster, workers=workers)
    runner = cluster_backfill_duty_runs.with_options(task_runner=spec.task_runner())
    return runner(start=start, end=end, cluster=cluster, workers=workers, **kwargs)
