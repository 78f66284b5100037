"""The batch commands: `run` (one month), `backfill` (a range, optionally on a Dask cluster) and
`serve` (the monthly flow as a Prefect deployment). The options are checked and the run
options built (flows/run/options.py) before Prefect starts; Prefect and the flows are
imported only here, and only when a command runs (the local API's module too: `quote` and the
other lookups import this module and need none of it)."""

from __future__ import annotations

import gc
import traceback
from typing import TYPE_CHECKING, Annotated

import typer

from flows.cli.base import (
    BATCH_EXIT_CODES,
    SERVE_EXIT_CODES,
    Command,
    app,
    check_customs_map,
    fail,
    month_option,
)
from flows.cli.output import quiet_prefect_console, telemetry_off
from flows.cli.run_options import with_run_options
from flows.config import DEFAULT_PARTITION_LINES
from flows.inputs.kinds import is_url
from flows.months import month_range, previous_month
from flows.run.options import RunParameters, given_inputs

if TYPE_CHECKING:
    from flows.run.options import RunOptions

SERVE_CRON = "0 6 5 * *"
SERVE_TIMEZONE = "America/New_York"


def _month_files(options: RunOptions, month: str) -> dict:
    """The run's input files for `month` (`{month}` filled in); exit 2 naming the file and
    the option when one does not exist."""
    from flows.inputs.kinds import InputMissing, month_inputs

    for kind, location in options.inputs.items():
        try:
            month_inputs({kind: location}, month)
        except InputMissing as error:
            raise typer.BadParameter(str(error), param_hint=f"--{kind}") from None
    return month_inputs(options.inputs, month)


def checked_options(parameters: RunParameters) -> RunOptions:
    """The run options, built once (flows/run/options.py); exit 2 for input combinations the
    run cannot take, before Prefect starts."""
    from flows.run.options import build_options

    try:
        options = build_options(**parameters)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if options.customs_map:
        check_customs_map(options.customs_map, options.inputs["customs"])
    from flows.inputs.scenarios import ScenarioFileError, scenario_path

    for spec in options.scenarios:
        try:
            scenario_path(spec)
        except ScenarioFileError as error:
            raise typer.BadParameter(str(error), param_hint="--scenario") from None
    return options


def _run_flow(api, flow_fn, console: dict, **kwargs) -> None:
    """Run a flow once the Prefect API (`flows.run.prefect_api.prefect_api`) answers, with
    Prefect's console quieted (`console`: verbose, debug; flows/cli/output.py); failures
    become exit codes with one line on stderr (and, with --debug, the traceback)."""
    from flows.run.monthly import RunFailed
    from flows.warehouse.lock import LockHeld

    try:
        api.ready()
        if not gc.isenabled():  # off during the start-up's imports (flows/cli/__init__.py `main`)
            gc.enable()
            gc.freeze()
        with quiet_prefect_console(**console):
            flow_fn(**kwargs)
    except LockHeld as error:
        raise fail(f"tariffcost: {error}") from None
    except RunFailed:
        raise typer.Exit(1) from None  # the summary with the reasons is already printed
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM (flows/run/prefect_api.py)
        raise fail(
            f"tariffcost: interrupted by {str(interrupt) or 'SIGINT'} (a month is published whole or not at all; "
            "the runs journal beside the warehouse records each month's outcome)",
            130,
        ) from None
    except Exception as error:  # anything else failed the run before publishing
        if console.get("debug"):
            traceback.print_exc()
        raise fail(f"tariffcost: the run failed, nothing was published: {error}") from None


# --------------------------------------------------------------------------------------------
# run / backfill / serve

MonthOpt = Annotated[
    str | None,
    typer.Option(
        "--month",
        metavar="YYYY-MM",
        help="Month of entry dates to run (default: the previous calendar month).",
        callback=month_option,
    ),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", help="Also print Prefect's flow and task state lines.")]
DebugOpt = Annotated[
    bool,
    typer.Option("--debug", help="Print everything Prefect logs, tracebacks of expected failures included."),
]
ClusterOpt = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        metavar="ADDRESS",
        help="Run the months on a running Dask scheduler (e.g. tcp://scheduler.internal:8786).",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", metavar="N", help="Run the months on a local Dask cluster of N worker processes.", min=1),
]
StagingOpt = Annotated[
    str | None,
    typer.Option(
        "--staging",
        metavar="PATH|URL",
        help="With --cluster/--workers: where workers write month Parquet before the publish "
        "(shared storage; default: beside the warehouse).",
    ),
]
PartitionLinesOpt = Annotated[
    int,
    typer.Option(
        "--partition-lines",
        metavar="N",
        help="With --cluster/--workers: split a month of more than N input lines into entry-hash partitions.",
        min=1,
    ),
]


@app.command(cls=Command, epilog=BATCH_EXIT_CODES)
@with_run_options(after="month")
def run(
    month: MonthOpt = None, verbose: VerboseOpt = False, debug: DebugOpt = False, *, parameters: RunParameters
) -> None:
    """The monthly batch: load, validate, compute, publish one month. With no input option it
    runs on the embedded sample data."""
    from flows.run.prefect_api import prefect_api

    telemetry_off()
    month = month or previous_month()
    with prefect_api() as api:  # boots while the options are checked and the flow imported
        options = checked_options(parameters)
        files = _month_files(options, month)
        if "customs" in files and not options.customs_map:
            from flows.inputs.customs import read_ahead

            # the month's customs rows are read while Prefect's API and the flow start up
            read_ahead(files["customs"], month)
        from flows.run.monthly import monthly_duty_run

        _run_flow(api, monthly_duty_run, dict(verbose=verbose, debug=debug), month=month, options=options)


@app.command(cls=Command, epilog=BATCH_EXIT_CODES)
@with_run_options(after="end", urls=True)
def backfill(
    start: Annotated[str, typer.Option("--from", metavar="YYYY-MM", help="First month.", callback=month_option)],
    end: Annotated[str, typer.Option("--to", metavar="YYYY-MM", help="Last month (included).", callback=month_option)],
    cluster: ClusterOpt = None,
    workers: WorkersOpt = None,
    staging: StagingOpt = None,
    partition_lines: PartitionLinesOpt = DEFAULT_PARTITION_LINES,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
    *,
    parameters: RunParameters,
) -> None:
    """The monthly batch for every month of a range, each month published on its own
    (idempotent); stops at the first month that fails. With --cluster or --workers the months
    run in parallel on Dask and are published together, in one swap."""
    telemetry_off()
    try:
        month_range(start, end)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if cluster and workers:
        raise typer.BadParameter("give --cluster ADDRESS or --workers N, not both", param_hint="--cluster")
    distributed = bool(cluster or workers)
    if distributed and parameters["customs_map"]:
        raise typer.BadParameter(
            "--customs-map is not supported with --cluster/--workers: convert the export with a "
            "sequential backfill first, or give the cluster a file in the contract layout",
            param_hint="--customs-map",
        )
    for kind, location in given_inputs(parameters).items():
        if is_url(location) and not distributed:
            raise typer.BadParameter("a URL input needs --cluster or --workers", param_hint=f"--{kind}")
    from flows.run.prefect_api import prefect_api

    with prefect_api() as api:
        options = checked_options(parameters)
        console = dict(verbose=verbose, debug=debug)
        if distributed:
            from flows.run.distributed import cluster_backfill

            _run_flow(api, cluster_backfill, console, start=start, end=end, cluster=cluster, workers=workers,
                      staging=staging, partition_lines=partition_lines, options=options)
            return
        from flows.run.monthly import backfill_duty_runs

        _run_flow(api, backfill_duty_runs, console, start=start, end=end, options=options)


@app.command(cls=Command, epilog=SERVE_EXIT_CODES)
@with_run_options(after="name")
def serve(
    name: Annotated[str, typer.Option("--name", help="Deployment name.")] = "monthly", *, parameters: RunParameters
) -> None:
    """Serve the monthly flow as a Prefect deployment: every 5th of the month at 06:00
    America/New_York it runs the previous month, on the inputs named here (the same options
    as `run`; `{month}` in a path is the month of each run). Needs a running Prefect server
    (`prefect server start`, then PREFECT_API_URL=http://127.0.0.1:4200/api)."""
    if not given_inputs(parameters):
        raise typer.BadParameter(
            "serve needs its inputs named: pass --customs PATH, with {month} where the month of each "
            "run goes (e.g. /data/ace/es003_{month}.csv), and --vehicles / --census if you use them; "
            "a scheduled run without inputs would price the embedded sample",
            param_hint="--customs",
        )
    telemetry_off()
    checked_options(parameters)  # each scheduled run builds its own from the parameters
    from prefect.schedules import Cron
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise fail(
            "tariffcost serve needs a running Prefect server: start one with "
            "`prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    from flows.run.monthly import monthly_duty_run

    # month stays unset: each scheduled run computes the previous month when it starts
    monthly_duty_run.serve(
        name=name,
        schedules=[Cron(SERVE_CRON, timezone=SERVE_TIMEZONE)],
        parameters={k: v for k, v in parameters.items() if v not in (None, [], False)},
        description="tariffcost monthly batch for the previous calendar month",
    )
