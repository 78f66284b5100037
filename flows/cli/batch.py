"""The batch commands: `run` (one month), `backfill` (a range, optionally on a Dask cluster) and
`serve` (the monthly flow as a Prefect deployment). The options are checked and the run
options built (flows/run/options.py) before Prefect starts; Prefect and the flows are
imported only here, and only when a command runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from flows.cli.base import (
    BackfillCustomsOpt,
    BackfillVehiclesOpt,
    CensusOpt,
    ClusterOpt,
    CustomsMapOpt,
    CustomsOpt,
    DbOpt,
    ExportsOpt,
    PartitionLinesOpt,
    RejectOpt,
    ScenarioOpt,
    ScheduleOpt,
    StagingOpt,
    VehiclesOpt,
    WaitLockOpt,
    WorkersOpt,
    app,
    check_customs_map,
    fail,
    month_option,
)
from flows.config import DEFAULT_MAX_REJECT_RATE, DEFAULT_PARTITION_LINES
from flows.months import month_range, previous_month
from flows.run.prefect_api import prefect_api

if TYPE_CHECKING:
    from flows.run.options import RunOptions

SERVE_CRON = "0 6 5 * *"
SERVE_TIMEZONE = "America/New_York"


def _flow_kwargs(customs, vehicles, census, schedule, db, exports, max_reject_rate, scenario, wait_lock,
                 customs_map=None) -> dict:
    # (customs_map only when given: the cluster flows do not take one)
    return ({"customs_map": customs_map} if customs_map else {}) | dict(
        customs=str(customs) if customs else None,
        vehicles=str(vehicles) if vehicles else None,
        census=str(census) if census else None,
        db=str(db) if db else None,
        exports=str(exports) if exports else None,
        schedule_path=str(schedule) if schedule else None,
        max_reject_rate=max_reject_rate,
        scenarios=list(scenario or []),
        wait_lock_seconds=wait_lock,
    )


def _check_flow_options(kwargs: dict) -> RunOptions:
    """Refuse (exit 2) input combinations the run cannot take, before starting Prefect;
    returns the run options."""
    from flows.run.options import build_options

    try:
        options = build_options(**kwargs)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if options.customs_map:
        check_customs_map(options.customs_map, options.inputs["customs"])
    from flows.inputs.scenarios import ScenarioFileError, scenario_path

    for spec in kwargs.get("scenarios") or []:
        try:
            scenario_path(spec)
        except ScenarioFileError as error:
            raise typer.BadParameter(str(error), param_hint="--scenario") from None
    return options


def _run_flow(api, flow_fn, **kwargs) -> None:
    """Run a flow once the Prefect API (`flows.run.prefect_api.prefect_api`) answers; failures
    become exit codes with one line on stderr."""
    from flows.run.monthly import RunFailed
    from flows.warehouse.lock import LockHeld

    try:
        api.ready()
        flow_fn(**kwargs)
    except LockHeld as error:
        raise fail(f"tariffcost: {error}") from None
    except RunFailed:
        raise typer.Exit(1) from None  # the summary with the reasons is already printed
    except Exception as error:  # anything else failed the run before publishing
        raise fail(f"tariffcost: the run failed, nothing was published: {error}") from None


# --------------------------------------------------------------------------------------------
# run / backfill / serve


@app.command()
def run(
    month: Annotated[
        str | None,
        typer.Option(
            "--month",
            metavar="YYYY-MM",
            help="Month of entry dates to run (default: the previous calendar month).",
            callback=month_option,
        ),
    ] = None,
    customs: CustomsOpt = None,
    vehicles: VehiclesOpt = None,
    census: CensusOpt = None,
    schedule: ScheduleOpt = None,
    db: DbOpt = None,
    exports: ExportsOpt = None,
    max_reject_rate: RejectOpt = DEFAULT_MAX_REJECT_RATE,
    scenario: ScenarioOpt = None,
    wait_lock: WaitLockOpt = 0.0,
    customs_map: CustomsMapOpt = None,
) -> None:
    """The monthly batch: load, validate, compute, publish one month. With no input option it
    runs on the embedded sample data."""
    kwargs = _flow_kwargs(customs, vehicles, census, schedule, db, exports, max_reject_rate, scenario, wait_lock,
                          customs_map)
    month = month or previous_month()
    with prefect_api() as api:  # boots while the options are checked and the flow imported
        options = _check_flow_options(kwargs)
        if "customs" in options.inputs and not options.customs_map:
            from flows.inputs.customs import read_ahead

            # the month's customs rows are read while Prefect's API and the flow start up
            read_ahead(options.inputs["customs"], month)
        from flows.run.monthly import monthly_duty_run

        _run_flow(api, monthly_duty_run, month=month, **kwargs)


@app.command()
def backfill(
    start: Annotated[str, typer.Option("--from", metavar="YYYY-MM", help="First month.", callback=month_option)],
    end: Annotated[str, typer.Option("--to", metavar="YYYY-MM", help="Last month (included).", callback=month_option)],
    customs: BackfillCustomsOpt = None,
    vehicles: BackfillVehiclesOpt = None,
    census: CensusOpt = None,
    schedule: ScheduleOpt = None,
    db: DbOpt = None,
    exports: ExportsOpt = None,
    max_reject_rate: RejectOpt = DEFAULT_MAX_REJECT_RATE,
    scenario: ScenarioOpt = None,
    wait_lock: WaitLockOpt = 0.0,
    cluster: ClusterOpt = None,
    workers: WorkersOpt = None,
    staging: StagingOpt = None,
    partition_lines: PartitionLinesOpt = DEFAULT_PARTITION_LINES,
    customs_map: CustomsMapOpt = None,
) -> None:
    """The monthly batch for every month of a range, each month published on its own
    (idempotent); stops at the first month that fails. With --cluster or --workers the months
    run in parallel on Dask and are published together, in one swap."""
    try:
        month_range(start, end)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if cluster and workers:
        raise typer.BadParameter("give --cluster ADDRESS or --workers N, not both", param_hint="--cluster")
    distributed = bool(cluster or workers)
    if distributed and customs_map:
        raise typer.BadParameter(
            "--customs-map is not supported with --cluster/--workers: convert the export with a "
            "sequential backfill first, or give the cluster a file in the contract layout",
            param_hint="--customs-map",
        )
    for name, value in (("--customs", customs), ("--vehicles", vehicles)):
        if value and "://" in value and not value.startswith("file://") and not distributed:
            raise typer.BadParameter("a URL input needs --cluster or --workers", param_hint=name)
    kwargs = _flow_kwargs(customs, vehicles, census, schedule, db, exports, max_reject_rate, scenario, wait_lock,
                          customs_map)
    with prefect_api() as api:
        _check_flow_options(kwargs)
        if distributed:
            from flows.run.distributed import cluster_backfill

            _run_flow(
                api,
                cluster_backfill,
                start=start,
                end=end,
                cluster=cluster,
                workers=workers,
                staging=staging,
                partition_lines=partition_lines,
                **kwargs,
            )
            return
        from flows.run.monthly import backfill_duty_runs

        _run_flow(api, backfill_duty_runs, start=start, end=end, **kwargs)


@app.command()
def serve(
    name: Annotated[str, typer.Option("--name", help="Deployment name.")] = "monthly",
    customs: CustomsOpt = None,
    vehicles: VehiclesOpt = None,
    census: CensusOpt = None,
    schedule: ScheduleOpt = None,
    db: DbOpt = None,
    exports: ExportsOpt = None,
    max_reject_rate: RejectOpt = DEFAULT_MAX_REJECT_RATE,
    scenario: ScenarioOpt = None,
    customs_map: CustomsMapOpt = None,
) -> None:
    """Serve the monthly flow as a Prefect deployment: every 5th of the month at 06:00
    America/New_York it runs the previous month. Needs a running Prefect server
    (`prefect server start`, then PREFECT_API_URL=http://127.0.0.1:4200/api)."""
    kwargs = _flow_kwargs(customs, vehicles, census, schedule, db, exports, max_reject_rate, scenario, 0.0, customs_map)
    _check_flow_options(kwargs)
    from prefect.schedules import Cron
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise fail(
            "tariffcost serve needs a running Prefect server: start one with "
            "`prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    from flows.run.monthly import monthly_duty_run

    # month stays unset: each scheduled run computes the previous month when it starts
    parameters = {k: v for k, v in kwargs.items() if v not in (None, [])}
    monthly_duty_run.serve(
        name=name,
        schedules=[Cron(SERVE_CRON, timezone=SERVE_TIMEZONE)],
        parameters=parameters,
        description="tariffcost monthly batch for the previous calendar month",
    )
