"""The monthly batch: load → validate → compute → publish, for one month or a range.

`run_month` is one month's lifecycle (flows/run/lifecycle.py: stages, records, counts) followed
by its publish into the warehouse; `run_months` runs months in order under the warehouse lock.
The Prefect flows `monthly_duty_run` and `backfill_duty_runs` wrap the same logic with each
stage as a Prefect task (retries with back-off on the I/O stages, for I/O errors only). The
published tables are the mart registry (flows/run/marts.py); the inputs are the input kinds
(flows/inputs/kinds.py); the options are one `RunOptions` (flows/run/options.py).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from flows.inputs.schedule import read_schedule
from flows.months import month_range, parse_month, previous_month
from flows.present.report import report_path, stage_reports
from flows.present.run_progress import RunProgress
from flows.present.summary import print_report_paths, print_summary, summary_markdown
from flows.run.flow_parameters import run_flow
from flows.run.lifecycle import (
    MonthRun,
    RunResult,
    month_tables,
    new_batch_id,
    replace_whole_month,
    schedule_unreadable,
)
from flows.run.marts import LINES_TABLE, MARTS, REJECTS_TABLE, Mart, MartContractError, MonthContext
from flows.run.month_state import choose_scenarios, published_month
from flows.run.options import RunOptions, build_options, check_inputs, default_inputs, options_of, takes_run_parameters
from flows.run.stages import (
    RejectThresholdExceeded,
    Stages,
    Validated,
    compute_stage,
    load_stage,
    retry_on_io_error,
    validate_stage,
)
from flows.warehouse.journal import RunRecord, append_journal, quarantine_journal
from flows.warehouse.lock import warehouse_lock
from flows.warehouse.publish import PublishResult, ReportWriter, clean_leftovers, publish_month
from transforms.schedule import Schedule

__all__ = [
    "LINES_TABLE", "MARTS", "REJECTS_TABLE", "Mart", "MartContractError", "MonthContext",
    "RejectThresholdExceeded", "RunFailed", "RunOptions", "RunResult", "Stages", "Validated",
    "backfill_duty_runs", "build_options", "check_inputs", "compute_stage", "default_inputs",
    "load_stage", "monthly_duty_run", "run_month", "run_months", "validate_stage",
]


def moved_journal_lines(db_path: Path) -> list[str]:
    """Move the journal's unreadable lines aside (flows/warehouse/journal.py); each warning is
    printed at once and returned for the first month's summary. Call under the lock."""
    warnings = quarantine_journal(Path(db_path))
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return warnings


class RunFailed(RuntimeError):
    """At least one month failed; it published nothing (months before it did)."""

    def __init__(self, results: Sequence[RunResult]):
        failed = [r for r in results if r.status != "success"]
        super().__init__(
            "; ".join(f"{r.month}: {r.error}" for r in failed) or "the run failed"
        )
        self.results = list(results)


def report_writer(schedule: Schedule, months_with_lines: Sequence[str]) -> ReportWriter:
    """The publish's report writer: the report of each month that has customs lines, read
    from the staging warehouse (flows/present/report.py `stage_reports`); a month without
    lines gets none (and so loses its old one)."""

    def write(db_path: Path, staging_dir: Path, months: list[str]):
        ready = [m for m in months if m in months_with_lines]
        staged = stage_reports(db_path, staging_dir, ready, schedule)
        problems = dict(staged.problems)
        problems.update({m: "no customs lines were published for the month" for m in months if m not in ready})
        return {r.month: r for r in staged.reports}, problems

    return write


def publish_stage(
    month: str,
    options: RunOptions,
    tables: Mapping[str, pl.DataFrame],
    exports: Mapping[str, str],
    record: RunRecord,
    schedule: Schedule | None = None,
) -> PublishResult:
    """Publish the month atomically, its report included when a schedule is given (I/O; safe
    to retry: it rebuilds its staging each time)."""
    lines = tables.get(LINES_TABLE)
    return publish_month(
        db_path=options.db_path,
        exports_dir=options.exports_dir,
        month=month,
        tables=tables,
        exports=exports,
        run=record,
        reports=report_writer(schedule, [month] if lines is not None and lines.width else [])
        if schedule is not None else None,
    )


PLAIN_STAGES = Stages(publish=publish_stage)


# --------------------------------------------------------------------------------------------
# the month logic


def run_month(
    month: str,
    options: RunOptions,
    schedule: Schedule,
    batch_id: str,
    *,
    stages: Stages = PLAIN_STAGES,
    marts: Sequence[Mart] | None = None,
    progress: RunProgress | None = None,
) -> RunResult:
    """One month, start to finish. Never raises for a failed month: the failure is
    journaled beside the warehouse and returned (status `failed`, nothing published)."""
    marts = MARTS if marts is None else marts
    run = MonthRun.start(f"{batch_id}-{month}", month, schedule, options.scenarios, progress=progress)
    append_journal(options.db_path, run.record)
    try:
        # the month is replaced as a unit: what it holds now decides the scenarios to re-run
        # and the tables to remove (flows/run/month_state.py)
        before = published_month(options.db_path, month)
        scenarios, scenario_note = choose_scenarios(options.scenarios, before)
        run.record = run.record.replace(scenarios=list(scenarios))
        # (the customs map only when given: custom stages without the parameter keep working)
        load_args = (month, dict(options.inputs), schedule) + ((options.customs_map,) if options.customs_map else ())
        loaded = run.timed("load", stages.load, *load_args)
        tables, exports = month_tables(run, loaded, max_reject_rate=options.max_reject_rate,
                                       scenarios=scenarios, stages=stages, marts=marts,
                                       allow_empty=options.allow_empty)
        if scenario_note:
            run.result.warnings.append(scenario_note)
        replace_whole_month(run, before, tables, exports, options.inputs)
        # the staged inputs are done with: let them go before publish (memory peak)
        del loaded
        published = run.timed("publish", stages.publish, month, options, tables, exports, run.success_record(),
                              schedule)
        run.result.exports = dict(published.exports)
        run.result.report, run.result.report_problem = published.report, published.report_problem
        run.succeeded()
    except BaseException as error:
        append_journal(options.db_path, run.fail(error))
        if not isinstance(error, Exception):
            raise
    finally:
        run.result.stage_seconds = dict(run.timings)
    return run.result


def run_months(
    months: Sequence[str],
    options: RunOptions,
    *,
    stages: Stages = PLAIN_STAGES,
    marts: Sequence[Mart] | None = None,
    schedule: Schedule | None = None,
    progress: RunProgress | None = None,
) -> list[RunResult]:
    """Months in order under the warehouse lock (LockHeld if another run holds it), after
    cleaning what killed runs left. Stops at the first failed month."""
    for month in months:
        parse_month(month)
    check_inputs(options.inputs)
    results: list[RunResult] = []
    with warehouse_lock(options.db_path, options.wait_lock_seconds):
        clean_leftovers(Path(options.db_path), Path(options.exports_dir))
        journal_warnings = moved_journal_lines(options.db_path)
        batch_id = new_batch_id()
        if schedule is None:
            try:
                schedule = read_schedule(options.schedule_path)
            except Exception as error:
                return [schedule_unreadable(options.db_path, batch_id, months[0], options.scenarios, error)]
        for month in months:
            result = run_month(
                month, options, schedule, batch_id, stages=stages, marts=marts, progress=progress
            )
            if not results:
                result.warnings[:0] = journal_warnings
            results.append(result)
            if progress is not None:
                progress.month_done()
            if result.status != "success":
                break
    return results


# --------------------------------------------------------------------------------------------
# Prefect: tasks are whole stages, flows wrap run_months


load_task = task(
    load_stage, name="load", task_run_name="load-{month}", retries=3,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_condition_fn=retry_on_io_error, cache_policy=NO_CACHE, persist_result=False,
)
validate_task = task(
    validate_stage, name="validate", task_run_name="validate-{month}",
    cache_policy=NO_CACHE, persist_result=False,
)
compute_task = task(
    compute_stage, name="compute", task_run_name="compute-{ctx.month}",
    cache_policy=NO_CACHE, persist_result=False,
)
publish_task = task(
    publish_stage, name="publish", task_run_name="publish-{month}", retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_condition_fn=retry_on_io_error, cache_policy=NO_CACHE, persist_result=False,
)
PREFECT_STAGES = Stages(load=load_task, validate=validate_task, compute=compute_task, publish=publish_task)


def run_in_flow(
    months: Sequence[str],
    options: RunOptions,
    runner: Callable[[Sequence[str], RunOptions, RunProgress], list[RunResult]] | None = None,
) -> list[RunResult]:
    """Run the months (default: `run_months` with Prefect stages; flows/run/distributed.py passes
    its cluster runner), then the summary, artifacts and reports; RunFailed if a month failed."""
    with RunProgress(len(months)) as progress:
        if runner is None:
            results = run_months(months, options, stages=PREFECT_STAGES, progress=progress)
        else:
            results = runner(months, options, progress)
    print_summary(results)
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(
        markdown=summary_markdown(results),
        key="tariffcost-run-summary",
        description=f"tariffcost {months[0]}..{months[-1]}",
    )
    # the reports were written with the publish (in its staging area, swapped in with the exports)
    published = [
        dataclasses.replace(r.report, path=report_path(options.exports_dir, r.month))
        for r in results if r.status == "success" and r.report is not None
    ]
    print_report_paths(published)
    for report in published:
        create_markdown_artifact(
            markdown=report.markdown, key=f"tariffcost-report-{report.month}",
            description=f"tariffcost report {report.month} ({report.path})",
        )
    for result in results:
        if result.status == "success" and result.report is None and result.report_problem:
            print(f"warning: report {result.month} not written ({result.report_problem}); "
                  f"no report of {result.month} is left in {report_path(options.exports_dir, result.month).parent}",
                  file=sys.stderr)
    if any(r.status != "success" for r in results):
        raise RunFailed(results)
    return results


@run_flow("monthly-duty-run")
@takes_run_parameters()
def monthly_duty_run(month: str | None = None, *, options: RunOptions | None = None, **parameters) -> list[RunResult]:
    """The monthly batch for `month` (default: the previous calendar month at run time), on
    the run options built by the caller or from the run parameters (flows/run/options.py)."""
    return run_in_flow([parse_month(month) if month else previous_month()], options_of(options, parameters))


@run_flow("backfill-duty-runs")
@takes_run_parameters()
def backfill_duty_runs(start: str, end: str, *, options: RunOptions | None = None, **parameters) -> list[RunResult]:
    """The monthly batch for every month from `start` to `end` in one flow run (each month
    published on its own, idempotently); stops at the first failed month."""
    return run_in_flow(month_range(start, end), options_of(options, parameters))
