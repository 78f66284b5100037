"""The monthly batch: load → validate → compute → publish, for one month or a range.

The business logic is plain functions (`run_month`, `run_months`) over four stage functions;
the Prefect flows `monthly_duty_run` and `backfill_duty_runs` wrap the same logic with each
stage as a Prefect task (retries with back-off on the I/O stages, for I/O errors only).

Marts are a registry (`MARTS`): adding a published table is one `Mart(...)` line naming the
table (DDL in `sql/<table>.sql`), how to build it from the month's context, its pandera
schema, its export folder (or None) and the inputs it needs. Inputs are a registry too
(`INPUT_LOADERS`: input kind → `load(path, month, schedule)`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandera.polars as pa
import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from flows.config import DEFAULT_MAX_REJECT_RATE, SAMPLE_CUSTOMS, SAMPLE_VEHICLES, settings
from flows.inputs.customs import load_customs_lines
from flows.inputs.census import census_warnings, load_census
from flows.warehouse.lock import warehouse_lock
from flows.months import month_range, parse_month, previous_month
from flows.warehouse.publish import (
    PublishResult,
    RunRecord,
    append_journal,
    clean_leftovers,
    pause_point,
    publish_month,
    utc_now,
)
from flows.inputs.schedule import read_schedule
from flows.present.report import write_month_reports
from flows.inputs.scenarios import build_scenario_mart
from flows.present.summary import (
    ProblemSummary,
    RunProgress,
    duty_by_program,
    print_summary,
    run_warnings,
    summary_markdown,
    worst_problems,
)
from flows.inputs.refund_rules import read_refund_status_rules
from flows.inputs.vehicles import (
    fct_duty_by_model_month_for_month,
    fct_vehicle_duty_for_month,
    load_vehicles,
    vehicle_warnings,
)
from schemas.fct_census_duty_by_hs_month import SCHEMA as FCT_CENSUS_DUTY_BY_HS_MONTH
from schemas.fct_duty_by_model_month import SCHEMA as FCT_DUTY_BY_MODEL_MONTH
from schemas.fct_vehicle_duty import SCHEMA as FCT_VEHICLE_DUTY
from schemas.fct_duty_by_hs_month import SCHEMA as FCT_DUTY_BY_HS_MONTH
from schemas.fct_duty_lines import SCHEMA as FCT_DUTY_LINES
from schemas.fct_declared_duty_by_heading import SCHEMA as FCT_DECLARED_DUTY_BY_HEADING
from schemas.fct_scenario_duty_by_hs_month import CONTRACT as FCT_SCENARIO_DUTY_BY_HS_MONTH
from schemas.fct_ieepa_refunds import SCHEMA as FCT_IEEPA_REFUNDS
from schemas.fct_ieepa_refunds_by_importer_month import SCHEMA as FCT_IEEPA_REFUNDS_BY_IMPORTER_MONTH
from schemas.fct_reconciliation import SCHEMA as FCT_RECONCILIATION
from schemas.fct_reconciliation_by_importer_month import SCHEMA as FCT_RECONCILIATION_BY_IMPORTER_MONTH
from transforms.fct_census_duty_by_hs_month import build_fct_census_duty_by_hs_month
from transforms.fct_duty_by_hs_month import build_fct_duty_by_hs_month
from transforms.fct_declared_duty_by_heading import build_fct_declared_duty_by_heading
from transforms.fct_duty_lines import build_fct_duty_lines
from transforms.fct_ieepa_refunds import build_fct_ieepa_refunds
from transforms.fct_ieepa_refunds_by_importer_month import build_fct_ieepa_refunds_by_importer_month
from transforms.fct_reconciliation import build_fct_reconciliation
from transforms.fct_reconciliation_by_importer_month import build_fct_reconciliation_by_importer_month
from transforms.schedule import Schedule

REJECTS_TABLE = "rejects"
LINES_TABLE = "fct_duty_lines"


class RunFailed(RuntimeError):
    """At least one month failed; it published nothing (months before it did)."""

    def __init__(self, results: Sequence[RunResult]):
        failed = [r for r in results if r.status != "success"]
        super().__init__(
            "; ".join(f"{r.month}: {r.error}" for r in failed) or "the run failed"
        )
        self.results = list(results)


class MartContractError(RuntimeError):
    """A built mart does not meet its pandera contract (a bug in a transform, not in the data)."""


def _contract_error(table: str, error: pa.errors.SchemaErrors) -> MartContractError:
    """One line per (column, check) with the number of failing rows and a few examples."""
    cases = (
        error.failure_cases.group_by("column", "check", maintain_order=True)
        .agg(rows=pl.len(), examples=pl.col("failure_case").head(3), at=pl.col("index").head(3))
        .to_dicts()
    )
    parts = [
        f"{c['column']} {c['check']}: {c['rows']} failure{'s' if c['rows'] != 1 else ''} "
        f"(e.g. {', '.join(repr(x) for x in c['examples'])}"
        + (f" at rows {', '.join(str(i) for i in c['at'] if i is not None)})" if any(i is not None for i in c['at']) else ")")
        for c in cases
    ]
    return MartContractError(f"{table} does not meet schemas/{table}.py: " + "; ".join(parts))


class RejectThresholdExceeded(RuntimeError):
    """Too many input rows were rejected: the month is not published."""

    def __init__(self, validated: Validated, max_reject_rate: float):
        super().__init__(
            f"{validated.rows_rejected} of {validated.rows_in} input rows rejected "
            f"({validated.reject_rate:.2%}) exceeds --max-reject-rate {max_reject_rate:.2%}"
        )
        self.validated = validated


# --------------------------------------------------------------------------------------------
# registries


@dataclass
class MonthContext:
    """What mart builders see: the month, the schedule, the loaded inputs (kind → loader
    result), the scenario names, and the marts built so far (table → frame)."""

    month: str
    schedule: Schedule
    loaded: Mapping[str, Any]
    scenarios: tuple[str, ...] = ()
    marts: dict[str, pl.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class Mart:
    """A published table: `build(ctx)` returns the month's frame; `schema.validate` checks it
    before publish; `export` is its folder under the exports root (None: not exported);
    `needs` lists the input kinds it requires (it is skipped when one is not given)."""

    table: str
    build: Callable[[MonthContext], pl.DataFrame]
    schema: Any
    export: str | None = None
    needs: tuple[str, ...] = ()


# Marts in build order (a builder may use the marts above it through ctx.marts).
MARTS: list[Mart] = [
    Mart("fct_duty_lines", lambda c: build_fct_duty_lines(c.loaded["customs"].stg, c.schedule), FCT_DUTY_LINES, "duty_lines", ("customs",)),
    Mart("fct_duty_by_hs_month", lambda c: build_fct_duty_by_hs_month(c.marts["fct_duty_lines"]), FCT_DUTY_BY_HS_MONTH, "duty_by_hs_month", ("customs",)),
    Mart("fct_scenario_duty_by_hs_month", lambda c: build_scenario_mart(c.marts["fct_duty_lines"], c.loaded["customs"].stg, c.schedule, c.scenarios), FCT_SCENARIO_DUTY_BY_HS_MONTH, "scenario_duty_by_hs_month", ("customs",)),
    Mart("fct_reconciliation", lambda c: build_fct_reconciliation(c.marts["fct_duty_lines"], c.schedule), FCT_RECONCILIATION, "reconciliation", ("customs",)),
    Mart("fct_declared_duty_by_heading", lambda c: build_fct_declared_duty_by_heading(c.loaded["customs"].stg, c.marts["fct_duty_lines"], c.schedule), FCT_DECLARED_DUTY_BY_HEADING, "declared_duty_by_heading", ("customs",)),
    Mart("fct_reconciliation_by_importer_month", lambda c: build_fct_reconciliation_by_importer_month(c.marts["fct_reconciliation"]), FCT_RECONCILIATION_BY_IMPORTER_MONTH, "reconciliation_by_importer_month", ("customs",)),
    # refund status estimated as of the run date (UTC)
    Mart("fct_ieepa_refunds", lambda c: build_fct_ieepa_refunds(c.marts["fct_duty_lines"], c.schedule, read_refund_status_rules(), utc_now().date()), FCT_IEEPA_REFUNDS, "ieepa_refunds", ("customs",)),
    Mart("fct_ieepa_refunds_by_importer_month", lambda c: build_fct_ieepa_refunds_by_importer_month(c.marts["fct_ieepa_refunds"]), FCT_IEEPA_REFUNDS_BY_IMPORTER_MONTH, "ieepa_refunds_by_importer_month", ("customs",)),
    Mart("fct_census_duty_by_hs_month", lambda c: build_fct_census_duty_by_hs_month(c.loaded["census"].stg, c.schedule), FCT_CENSUS_DUTY_BY_HS_MONTH, "census_duty_by_hs_month", ("census",)),
    Mart("fct_vehicle_duty", fct_vehicle_duty_for_month, FCT_VEHICLE_DUTY, "vehicle_duty", ("customs", "vehicles")),
    Mart("fct_duty_by_model_month", fct_duty_by_model_month_for_month, FCT_DUTY_BY_MODEL_MONTH, "duty_by_model_month", ("customs", "vehicles")),
]

# Input kind → load(path, month, schedule) returning an object with rows_in, checksum_sha256,
# source and (for row-checked inputs) a `rejects` frame (source, row_number, column, check, value).
INPUT_LOADERS: dict[str, Callable[[Path, str, Schedule], Any]] = {
    "customs": load_customs_lines,
    "vehicles": load_vehicles,
    "census": load_census,
}

# Input kinds whose loader needs other inputs: kind → the kinds whose (path, loaded result)
# it receives as keyword `context`; it is loaded after them.
INPUT_CONTEXT: dict[str, tuple[str, ...]] = {"vehicles": ("customs",)}

# The embedded sample, used when a command is given no input option.
SAMPLE_INPUTS: dict[str, Path] = {"customs": SAMPLE_CUSTOMS, "vehicles": SAMPLE_VEHICLES}


def default_inputs() -> dict[str, Path]:
    """The sample inputs whose kind has a loader registered."""
    return {kind: path for kind, path in SAMPLE_INPUTS.items() if kind in INPUT_LOADERS}


def check_inputs(inputs: Mapping[str, Path]) -> None:
    """ValueError if an input kind has no loader, or no input is given."""
    if not inputs:
        raise ValueError("no input given: pass --customs, --vehicles or --census")
    unknown = sorted(set(inputs) - set(INPUT_LOADERS))
    if unknown:
        raise ValueError(
            f"no loader for input kind(s) {', '.join(unknown)} "
            f"(available: {', '.join(sorted(INPUT_LOADERS))})"
        )


# --------------------------------------------------------------------------------------------
# options and results


@dataclass(frozen=True)
class RunOptions:
    db_path: Path
    exports_dir: Path
    inputs: Mapping[str, Path]
    schedule_path: Path | None = None
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE
    scenarios: tuple[str, ...] = ()
    wait_lock_seconds: float = 0.0
    customs_map: str | None = None  # `--customs-map NAME|PATH` the customs input is read through


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


# --------------------------------------------------------------------------------------------
# stages (plain functions; the Prefect tasks below wrap them)


def load_stage(
    month: str, inputs: Mapping[str, Path], schedule: Schedule, customs_map: str | None = None
) -> dict[str, Any]:
    """Read every given input for the month (I/O); kinds in INPUT_CONTEXT after the inputs
    they need, which they receive as `context`; the customs input through `customs_map`."""
    loaded: dict[str, Any] = {}
    for kind in sorted(inputs, key=lambda k: k in INPUT_CONTEXT):
        loader, path = INPUT_LOADERS[kind], Path(inputs[kind])
        if kind in INPUT_CONTEXT:
            context = {dep: (Path(inputs[dep]), loaded[dep]) for dep in INPUT_CONTEXT[kind] if dep in loaded}
            loaded[kind] = loader(path, month, schedule, context=context)
        elif kind == "customs" and customs_map is not None:
            loaded[kind] = loader(path, month, schedule, customs_map=customs_map)
        else:
            loaded[kind] = loader(path, month, schedule)
    return {kind: loaded[kind] for kind in inputs}


def _rows_rejected(rejects: pl.DataFrame) -> int:
    return rejects.select(pl.struct("source", "row_number").n_unique()).item() if rejects.height else 0


def validate_stage(
    month: str, loaded: Mapping[str, Any], run_id: str, max_reject_rate: float
) -> Validated:
    """Count input rows and quarantined rows; refuse the month when the reject rate is above
    `max_reject_rate` (RejectThresholdExceeded, with the worst problems)."""
    frames = [getattr(result, "rejects") for result in loaded.values() if hasattr(result, "rejects")]
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
        if mart.schema is not None:
            try:
                frame = mart.schema.validate(frame, lazy=True)
            except pa.errors.SchemaErrors as error:
                raise _contract_error(mart.table, error) from None
        ctx.marts[mart.table] = frame
    return dict(ctx.marts)


def publish_stage(
    month: str,
    options: RunOptions,
    tables: Mapping[str, pl.DataFrame],
    exports: Mapping[str, str],
    record: RunRecord,
) -> PublishResult:
    """Publish the month atomically (I/O; safe to retry: it rebuilds its staging each time)."""
    return publish_month(
        db_path=options.db_path,
        exports_dir=options.exports_dir,
        month=month,
        tables=tables,
        exports=exports,
        run=record,
    )


@dataclass(frozen=True)
class Stages:
    load: Callable = load_stage
    validate: Callable = validate_stage
    compute: Callable = compute_stage
    publish: Callable = publish_stage


PLAIN_STAGES = Stages()


# --------------------------------------------------------------------------------------------
# the month logic


def new_batch_id() -> str:
    """A sortable id for one invocation; each month's run_id is `<batch>-<YYYY-MM>`."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _input_checksums(loaded: Mapping[str, Any]) -> dict[str, dict]:
    return {
        kind: {"path": str(result.source), "sha256": result.checksum_sha256, "rows_in": int(result.rows_in)}
        for kind, result in loaded.items()
    }


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
    run_id = f"{batch_id}-{month}"
    record = RunRecord(
        run_id=run_id,
        month=month,
        started_at=utc_now(),
        status="running",
        schedule_version=schedule.version,
        schedule_source=schedule.source,
        scenarios=list(options.scenarios),
    )
    append_journal(options.db_path, record)
    result = RunResult(run_id=run_id, month=month, status="failed")
    timings: dict[str, float] = {}

    def timed(stage: str, call: Callable, *args):
        if progress is not None:
            progress.stage(month, stage)
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            timings[stage] = round(time.perf_counter() - started, 3)

    try:
        # (the map only when given: custom stages without the parameter keep working)
        load_args = (month, dict(options.inputs), schedule) + ((options.customs_map,) if options.customs_map else ())
        loaded = timed("load", stages.load, *load_args)
        record = record.replace(input_checksums=_input_checksums(loaded))
        result.rows_in_by_input = {kind: int(r.rows_in) for kind, r in loaded.items()}
        try:
            validated = timed("validate", stages.validate, month, loaded, run_id, options.max_reject_rate)
        except RejectThresholdExceeded as refused:
            result.rows_in = refused.validated.rows_in
            result.rows_rejected = refused.validated.rows_rejected
            result.problems = refused.validated.problems
            raise
        result.rows_in, result.rows_rejected = validated.rows_in, validated.rows_rejected
        result.problems = validated.problems
        ctx = MonthContext(month=month, schedule=schedule, loaded=loaded, scenarios=tuple(options.scenarios))
        tables = dict(timed("compute", stages.compute, ctx, marts))
        lines = tables.get(LINES_TABLE)
        result.duty_by_program = duty_by_program(lines)
        result.warnings = run_warnings(lines, schedule) + vehicle_warnings(tables) + census_warnings(tables, loaded)
        # the staged inputs are done with: let them go before publish (memory peak)
        del ctx, loaded
        if validated.rejects is not None:
            tables[REJECTS_TABLE] = validated.rejects
        exports = {m.table: m.export for m in marts if m.export and m.table in tables}
        result.tables = {name: frame.height for name, frame in tables.items()}
        result.rows_published = (
            lines.height if lines is not None
            else sum(n for name, n in result.tables.items() if name != REJECTS_TABLE)
        )
        record = record.replace(
            status="success",
            finished_at=utc_now(),
            rows_in=result.rows_in,
            rows_rejected=result.rows_rejected,
            rows_published=result.rows_published,
            tables_published=result.tables,
            stage_timings=dict(timings),
            warnings=result.warnings,
        )
        published = timed("publish", stages.publish, month, options, tables, exports, record)
        result.exports = dict(published.exports)
        result.status = "success"
    except BaseException as error:
        result.error = f"{type(error).__name__}: {error}" if not str(error) else str(error)
        append_journal(
            options.db_path,
            record.replace(
                status="failed",
                finished_at=utc_now(),
                rows_in=result.rows_in,
                rows_rejected=result.rows_rejected,
                rows_published=0,
                tables_published={},
                stage_timings=dict(timings),
                error_message=result.error,
                warnings=result.warnings,
            ),
        )
        if not isinstance(error, Exception):
            raise
    finally:
        result.stage_seconds = dict(timings)
    return result


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
        batch_id = new_batch_id()
        if schedule is None:
            try:
                schedule = read_schedule(options.schedule_path)
            except Exception as error:
                failed = RunResult(
                    run_id=f"{batch_id}-{months[0]}", month=months[0], status="failed",
                    error=f"cannot read the schedule: {error}",
                )
                append_journal(
                    options.db_path,
                    RunRecord(
                        run_id=failed.run_id, month=failed.month, started_at=utc_now(),
                        finished_at=utc_now(), status="failed", error_message=failed.error,
                        scenarios=list(options.scenarios),
                    ),
                )
                return [failed]
        for month in months:
            result = run_month(
                month, options, schedule, batch_id, stages=stages, marts=marts, progress=progress
            )
            results.append(result)
            if progress is not None:
                progress.month_done()
            if result.status != "success":
                break
    return results


# --------------------------------------------------------------------------------------------
# Prefect: tasks are whole stages, flows wrap run_months


def _is_io_error(error: BaseException | None) -> bool:
    """An I/O error worth retrying (not a missing file or a permission problem)."""
    permanent = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)
    while error is not None:
        if isinstance(error, OSError) and not isinstance(error, permanent):
            return True
        if isinstance(error, duckdb.IOException):
            return True
        error = error.__cause__ or error.__context__
    return False


def _retry_on_io_error(task, task_run, state) -> bool:
    try:
        state.result()
    except Exception as error:
        return _is_io_error(error)
    return False


load_task = task(
    load_stage, name="load", task_run_name="load-{month}", retries=3,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_condition_fn=_retry_on_io_error, cache_policy=NO_CACHE, persist_result=False,
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
    retry_condition_fn=_retry_on_io_error, cache_policy=NO_CACHE, persist_result=False,
)
PREFECT_STAGES = Stages(load=load_task, validate=validate_task, compute=compute_task, publish=publish_task)


def build_options(
    *,
    customs: str | None = None,
    vehicles: str | None = None,
    census: str | None = None,
    db: str | None = None,
    exports: str | None = None,
    schedule_path: str | None = None,
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
    scenarios: Sequence[str] = (),
    wait_lock_seconds: float = 0.0,
    customs_map: str | None = None,
) -> RunOptions:
    """Options from command-line style values: no input given → the embedded sample;
    any input given → only the inputs given. Unset paths come from flows.config.settings().
    ValueError for a customs map without a customs input."""
    given = {k: Path(v) for k, v in (("customs", customs), ("vehicles", vehicles), ("census", census)) if v}
    inputs = given or default_inputs()
    check_inputs(inputs)
    resolved = settings()
    return RunOptions(
        db_path=Path(db) if db else resolved.db_path,
        exports_dir=Path(exports) if exports else resolved.exports_dir,
        inputs=inputs,
        schedule_path=Path(schedule_path) if schedule_path else None,
        max_reject_rate=max_reject_rate,
        scenarios=tuple(scenarios),
        wait_lock_seconds=wait_lock_seconds,
        customs_map=_customs_map_for(customs_map, given),
    )


def _customs_map_for(customs_map: str | None, given: Mapping[str, Path]) -> str | None:
    if customs_map and "customs" not in given:
        raise ValueError("--customs-map needs --customs FILE (the embedded sample is in the contract layout)")
    return customs_map or None


def _run_in_flow(
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
    reports, report_problems = write_month_reports(
        options.db_path, options.exports_dir, [r.month for r in results if r.status == "success" and LINES_TABLE in r.tables],
        options.schedule_path,
    )
    for report in reports:
        print(f"report {report.month}: {report.path}")
        create_markdown_artifact(
            markdown=report.markdown, key=f"tariffcost-report-{report.month}",
            description=f"tariffcost report {report.month} ({report.path})",
        )
    for problem in report_problems:
        print(f"warning: {problem}", file=sys.stderr)
    if any(r.status != "success" for r in results):
        raise RunFailed(results)
    return results


@flow(name="monthly-duty-run", log_prints=False)
def monthly_duty_run(
    month: str | None = None,
    customs: str | None = None,
    vehicles: str | None = None,
    census: str | None = None,
    db: str | None = None,
    exports: str | None = None,
    schedule_path: str | None = None,
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
    scenarios: list[str] | None = None,
    wait_lock_seconds: float = 0.0,
    customs_map: str | None = None,
) -> list[RunResult]:
    """The monthly batch for `month` (default: the previous calendar month at run time)."""
    options = build_options(
        customs=customs, vehicles=vehicles, census=census, db=db, exports=exports,
        schedule_path=schedule_path, max_reject_rate=max_reject_rate,
        scenarios=scenarios or (), wait_lock_seconds=wait_lock_seconds, customs_map=customs_map,
    )
    return _run_in_flow([parse_month(month) if month else previous_month()], options)


@flow(name="backfill-duty-runs", log_prints=False)
def backfill_duty_runs(
    start: str,
    end: str,
    customs: str | None = None,
    vehicles: str | None = None,
    census: str | None = None,
    db: str | None = None,
    exports: str | None = None,
    schedule_path: str | None = None,
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
    scenarios: list[str] | None = None,
    wait_lock_seconds: float = 0.0,
    customs_map: str | None = None,
) -> list[RunResult]:
    """The monthly batch for every month from `start` to `end` in one flow run (each month
    published on its own, idempotently); stops at the first failed month."""
    options = build_options(
        customs=customs, vehicles=vehicles, census=census, db=db, exports=exports,
        schedule_path=schedule_path, max_reject_rate=max_reject_rate,
        scenarios=scenarios or (), wait_lock_seconds=wait_lock_seconds, customs_map=customs_map,
    )
    return _run_in_flow(month_range(start, end), options)
