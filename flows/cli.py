"""The `tariffcost` command line (contract: README "Command line").

Exit codes: 0 success; 1 the run failed and nothing was published (or `validate` found
problems); 2 bad command line. Prefect is imported only by `run`, `backfill` and `serve`, so
`quote`, `validate` and `schedule` answer without starting it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flows.config import DEFAULT_MAX_REJECT_RATE
from flows.months import month_range, parse_month, previous_month
from flows.run.prefect_api import prefect_api

if TYPE_CHECKING:
    from flows.run.monthly import RunOptions

app = typer.Typer(
    name="tariffcost",
    help="Tariff-cost batch calculator for US imports of Japanese motor vehicles and parts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SERVE_CRON = "0 6 5 * *"
SERVE_TIMEZONE = "America/New_York"
KINDS = ("customs", "vehicles", "census")
HTS_RE = re.compile(r"^[0-9]{10}$")
ORIGIN_RE = re.compile(r"^[A-Z]{2}$")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


# --------------------------------------------------------------------------------------------
# option parsing (bad values exit 2)


def _month_option(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_month(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _rate_option(value: float) -> float:
    if not 0 <= value <= 1:
        raise typer.BadParameter(f"must be a fraction between 0 and 1, got {value}")
    return value


ExistingFile = dict(exists=True, file_okay=True, dir_okay=False, readable=True)
CustomsOpt = Annotated[Path | None, typer.Option("--customs", help="Customs entry lines (CSV, Excel .xlsx or Parquet; an ACE export with --customs-map).", **ExistingFile)]
VehiclesOpt = Annotated[Path | None, typer.Option("--vehicles", help="Vehicles file (optional).", **ExistingFile)]
CensusOpt = Annotated[Path | None, typer.Option("--census", help="Census aggregate statistics (optional).", **ExistingFile)]
ScheduleOpt = Annotated[Path | None, typer.Option("--schedule", help="A tariff schedule (schedule.toml or its folder) other than the shipped default.", exists=True)]
DbOpt = Annotated[Path | None, typer.Option("--db", help="DuckDB warehouse (default data/warehouse.duckdb).")]
ExportsOpt = Annotated[Path | None, typer.Option("--exports", help="Parquet exports root (default data/exports).")]
RejectOpt = Annotated[float, typer.Option("--max-reject-rate", help="Fail the run when rejected rows / rows in exceed this fraction.", callback=_rate_option)]
ScenarioOpt = Annotated[list[str] | None, typer.Option("--scenario", help="Scenario overlay to compute as well (repeatable).")]
CustomsMapOpt = Annotated[str | None, typer.Option("--customs-map", metavar="NAME|PATH", help="Read --customs through a column map: a shipped map name (ace_es003, contract; data/maps/) or a TOML file.")]
WaitLockOpt = Annotated[float, typer.Option("--wait-lock", metavar="SECONDS", help="Wait up to SECONDS for another run's warehouse lock instead of failing at once.", min=0)]


def _input_location(value: str | None) -> str | None:
    """An input of `backfill`: an existing file, or an fsspec URL (`scheme://…`) that the
    cluster workers read (only with --cluster / --workers)."""
    if value is None or ("://" in value and not value.startswith("file://")):
        return value
    path = value.removeprefix("file://")
    if not Path(path).is_file():
        raise typer.BadParameter(f"file {value!r} does not exist")
    return path


BackfillCustomsOpt = Annotated[str | None, typer.Option("--customs", help="Customs entry lines (CSV, Excel or Parquet): a path, or with --cluster/--workers an fsspec URL.", callback=_input_location)]
BackfillVehiclesOpt = Annotated[str | None, typer.Option("--vehicles", help="Vehicles file (optional): a path, or with --cluster/--workers an fsspec URL.", callback=_input_location)]
ClusterOpt = Annotated[str | None, typer.Option("--cluster", metavar="ADDRESS", help="Run the months on a running Dask scheduler (e.g. tcp://scheduler.internal:8786).")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", metavar="N", help="Run the months on a local Dask cluster of N worker processes.", min=1)]
StagingOpt = Annotated[str | None, typer.Option("--staging", metavar="PATH|URL", help="With --cluster/--workers: where workers write month Parquet before the publish (shared storage; default: beside the warehouse).")]
PartitionLinesOpt = Annotated[int, typer.Option("--partition-lines", metavar="N", help="With --cluster/--workers: split a month of more than N input lines into entry-hash partitions.", min=1)]


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
    from flows.run.monthly import build_options

    try:
        options = build_options(**kwargs)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if options.customs_map:
        _check_customs_map(options.customs_map, options.inputs["customs"])
    from flows.inputs.scenarios import ScenarioFileError, scenario_path

    for spec in kwargs.get("scenarios") or []:
        try:
            scenario_path(spec)
        except ScenarioFileError as error:
            raise typer.BadParameter(str(error), param_hint="--scenario") from None
    return options


def _read_customs_map_or_exit(spec: str):
    """The checked map of `--customs-map` (exit 2 with the map, key and value when bad)."""
    from flows.inputs.customs_maps import read_customs_map
    from schemas.customs_map import CustomsMapError

    try:
        return read_customs_map(spec)
    except CustomsMapError as error:
        raise typer.BadParameter(str(error), param_hint="--customs-map") from None


def _check_customs_map(spec: str, customs: Path | str):
    """The map, checked on its own and against the customs file's headers (exit 2), before
    any row is read. A path not on this machine (a URL, a `{month}` template) is not opened."""
    cmap = _read_customs_map_or_exit(spec)
    path = Path(str(customs))
    if path.is_file():
        from flows.inputs.customs import InputSchemaError, file_headers, input_source
        from flows.inputs.customs_maps import check_map_headers
        from schemas.customs_map import CustomsMapError

        source = input_source(path, cmap.sheet)
        try:
            check_map_headers(cmap, file_headers(path, source, cmap.sheet), source)
        except (CustomsMapError, InputSchemaError) as error:
            raise typer.BadParameter(str(error), param_hint="--customs-map") from None
    return cmap


def _run_flow(api, flow_fn, **kwargs) -> None:
    """Run a flow once the Prefect API (`flows.run.prefect_api.prefect_api`) answers; failures
    become exit codes with one line on stderr."""
    from flows.warehouse.lock import LockHeld
    from flows.run.monthly import RunFailed

    try:
        api.ready()
        flow_fn(**kwargs)
    except LockHeld as error:
        raise _fail(f"tariffcost: {error}") from None
    except RunFailed:
        raise typer.Exit(1) from None  # the summary with the reasons is already printed
    except Exception as error:  # anything else failed the run before publishing
        raise _fail(f"tariffcost: the run failed, nothing was published: {error}") from None


# --------------------------------------------------------------------------------------------
# run / backfill / serve


@app.command()
def run(
    month: Annotated[str | None, typer.Option("--month", metavar="YYYY-MM", help="Month of entry dates to run (default: the previous calendar month).", callback=_month_option)] = None,
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
    kwargs = _flow_kwargs(customs, vehicles, census, schedule, db, exports, max_reject_rate, scenario, wait_lock, customs_map)
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
    start: Annotated[str, typer.Option("--from", metavar="YYYY-MM", help="First month.", callback=_month_option)],
    end: Annotated[str, typer.Option("--to", metavar="YYYY-MM", help="Last month (included).", callback=_month_option)],
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
    partition_lines: PartitionLinesOpt = 2_000_000,
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
    kwargs = _flow_kwargs(customs, vehicles, census, schedule, db, exports, max_reject_rate, scenario, wait_lock, customs_map)
    with prefect_api() as api:
        _check_flow_options(kwargs)
        if distributed:
            from flows.run.distributed import cluster_backfill

            _run_flow(api, cluster_backfill, start=start, end=end, cluster=cluster, workers=workers,
                      staging=staging, partition_lines=partition_lines, **kwargs)
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
        raise _fail(
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


# --------------------------------------------------------------------------------------------
# quote


def _hts(value: str) -> str:
    code = value.replace(".", "").strip()
    if not HTS_RE.match(code):
        raise typer.BadParameter(f"must be a 10-digit HTS code (dots allowed), got {value!r}")
    return code


def _origin(value: str) -> str:
    code = value.strip().upper()
    if not ORIGIN_RE.match(code):
        raise typer.BadParameter(f"must be an ISO 3166-1 alpha-2 country code, got {value!r}")
    return code


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise typer.BadParameter(f"must be a date YYYY-MM-DD, got {value!r}") from None


def _money_text(value: str) -> str:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"must be a number of US dollars, got {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:
        raise typer.BadParameter(f"must be ≥ 0 with at most 2 decimals, got {value!r}")
    return value


def _quantity_text(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"must be a number, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise typer.BadParameter(f"must be ≥ 0, got {value!r}")
    return value


def _read_schedule_or_exit(schedule: Path | None):
    from flows.inputs.schedule import read_schedule

    try:
        return read_schedule(schedule)
    except Exception as error:
        raise _fail(f"tariffcost: cannot read the schedule: {error}") from None


@app.command()
def quote(
    hts: Annotated[str, typer.Option("--hts", metavar="CODE", help="10-digit HTS code (dots allowed).", callback=_hts)],
    origin: Annotated[str, typer.Option("--origin", metavar="CC", help="Country of origin, ISO alpha-2.", callback=_origin)],
    entry_date: Annotated[str, typer.Option("--entry-date", metavar="YYYY-MM-DD", help="Date of entry.", callback=_date)],
    value: Annotated[str, typer.Option("--value", metavar="USD", help="Customs (entered) value in USD.", callback=_money_text)],
    quantity: Annotated[str | None, typer.Option("--quantity", metavar="Q", help="Quantity in the HTS unit (for specific rates).", callback=_quantity_text)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    schedule: ScheduleOpt = None,
) -> None:
    """One line's duty, component by component, without running the pipeline."""
    from transforms.quote import QuoteError, quote_line, render_quote

    sched = _read_schedule_or_exit(schedule)
    try:
        q = quote_line(hts, origin, entry_date, value, quantity, sched)
    except QuoteError as error:
        raise typer.BadParameter(str(error), param_hint="--hts") from None
    typer.echo(json.dumps(q, indent=2) if as_json else render_quote(q))


# --------------------------------------------------------------------------------------------
# validate / schedule


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Input file to check.", exists=True, dir_okay=False, readable=True)],
    kind: Annotated[str | None, typer.Option("--kind", help="customs | vehicles | census (with --customs-map: customs, the default)")] = None,
    schedule: ScheduleOpt = None,
    customs_map: CustomsMapOpt = None,
) -> None:
    """Check an input file against its contract; print every problem with row and column;
    exit 1 if any. With --customs-map, first how the file's headers map (and the headers that
    did not, with a close match), then the problems after mapping."""
    if kind is None and not customs_map:
        raise typer.BadParameter("give --kind customs|vehicles|census", param_hint="--kind")
    kind = kind or "customs"
    if kind not in KINDS:
        raise typer.BadParameter(f"must be one of {', '.join(KINDS)}, got {kind!r}", param_hint="--kind")
    if customs_map and kind != "customs":
        raise typer.BadParameter("--customs-map applies to --kind customs only", param_hint="--customs-map")
    from flows.inputs.customs import validate_file

    cmap = None
    if customs_map:
        cmap = _show_mapping(customs_map, file)
    sched = _read_schedule_or_exit(schedule)
    try:
        problems = validate_file(file, kind, sched, cmap) if cmap else validate_file(file, kind, sched)
    except ValueError as error:
        raise _fail(f"tariffcost: {error}") from None
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        raise _fail(f"{file}: {len(problems)} problem{'s' if len(problems) != 1 else ''} ({kind})")
    typer.echo(f"{file}: no problems ({kind})")


def _show_mapping(spec: str, file: Path):
    """Print how `file` maps through the map `spec`; exit 1 when a mapped header is missing."""
    from flows.inputs.customs import InputSchemaError, file_headers, input_source
    from flows.inputs.customs_maps import mapping_lines

    cmap = _read_customs_map_or_exit(spec)
    source = input_source(file, cmap.sheet)
    try:
        headers = file_headers(file, source, cmap.sheet)
    except InputSchemaError as error:
        raise _fail(f"tariffcost: {error}") from None
    for line in mapping_lines(cmap, headers):
        typer.echo(line)
    missing = [h for h in cmap.columns.values() if h not in headers]
    if missing:
        _check_customs_map(spec, file)  # exits 2 naming the map, key and header
    return cmap


@app.command()
def refunds(
    importer: Annotated[str, typer.Option("--importer", metavar="ID", help="Importer of record number, as in the customs input.")],
    month: Annotated[list[str] | None, typer.Option("--month", metavar="YYYY-MM", help="Only entries of this month (repeatable; default: every month in the warehouse).")] = None,
    out: Annotated[Path | None, typer.Option("--out", metavar="FILE", help="The CAPE declaration CSV to write (default cape_<importer>.csv); the worksheet goes beside it.")] = None,
    db: DbOpt = None,
    as_of: Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Estimate liquidation status as of this date (default: today).")] = None,
) -> None:
    """Write the importer's CAPE refund declaration (entry numbers eligible for CBP's CAPE
    IEEPA refund process) and a worksheet with the IEEPA duty and liquidation estimate per
    entry, from fct_ieepa_refunds."""
    from flows.config import settings
    from flows.present.cape import RefundsError, write_cape_files

    months = [_month_option(m) for m in month or []]
    day = dt.date.fromisoformat(_date(as_of)) if as_of else dt.date.today()
    target = out or Path(f"cape_{re.sub(r'[^A-Za-z0-9_-]', '_', importer)}.csv")
    try:
        files = write_cape_files(Path(db) if db else settings().db_path, importer, months, target, day)
    except RefundsError as error:
        raise _fail(f"tariffcost: {error}") from None
    typer.echo(
        f"importer {importer}: {files.entries} entries with IEEPA duty (USD {files.ieepa_duty_usd:,}), "
        f"{files.eligible_entries} eligible for CAPE as of {day.isoformat()} (USD {files.eligible_ieepa_duty_usd:,})"
    )
    for path in files.declarations:
        typer.echo(f"CAPE declaration: {path}")
    if not files.declarations:
        typer.echo("no entry is eligible for CAPE: no declaration file written")
    typer.echo(f"worksheet: {files.worksheet}")
    typer.echo("note: the CAPE upload layout (one column 'Entry Number') is from secondary sources; "
               "compare with the template in ACE Portal > CAPE before uploading")


@app.command(name="schedule")
def schedule_command(
    on: Annotated[str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="Entry date (default: today).")] = None,
    origin: Annotated[str | None, typer.Option("--origin", metavar="CC", help="Only measures for this origin (and all origins).")] = None,
    schedule: ScheduleOpt = None,
) -> None:
    """List the chapter 99 measures and fees in force on a date, with headings, rates,
    sources and UNCONFIRMED flags."""
    import polars as pl

    from transforms.schedule import in_force_on, measures_in_force

    day = dt.date.fromisoformat(_date(on)) if on else dt.date.today()
    country = _origin(origin) if origin else None
    sched = _read_schedule_or_exit(schedule)
    measures = measures_in_force(sched, day)
    if country:
        measures = measures.filter(pl.col("origin").is_in([country, "*"]))
    fees = sched.fees.filter(in_force_on(pl.col("valid_from"), pl.col("valid_to"), pl.lit(day)))
    typer.echo(f"Schedule {sched.version} ({sched.name}), in force on {day.isoformat()}"
               + (f", origin {country}" if country else "") + f" — {sched.source}")
    typer.echo(f"{measures.height} measure{'s' if measures.height != 1 else ''}:")
    for m in measures.to_dicts():
        flag = "  UNCONFIRMED" if m["confidence"] == "unconfirmed" else ""
        heading = m["heading"] + (f" / {m['heading_at_or_above_cap']}" if m["heading_at_or_above_cap"] else "")
        until = f" to {m['valid_to']}" if m["valid_to"] else ""
        typer.echo(
            f"  {m['measure_id']:<24} {heading:<24} {_stated(m['rate'], m['shape']):<12} "
            f"{m['program']:<12} origin {m['origin']:<3} scope {m['scope_id']:<20} "
            f"from {m['valid_from']}{until}{flag}"
        )
        typer.echo(f"      {m['description']}. Source: {m['legal_source']}")
        if flag:
            typer.echo(f"      UNCONFIRMED: {m['confidence_note']}")
    typer.echo(f"{fees.height} fee{'s' if fees.height != 1 else ''}:")
    for f in fees.to_dicts():
        flag = "  UNCONFIRMED" if f["confidence"] == "unconfirmed" else ""
        bounds = ", ".join(
            part for part in (
                f"min {f['min_usd']}" if f["min_usd"] is not None else "",
                f"max {f['max_usd']}" if f["max_usd"] is not None else "",
            ) if part
        )
        typer.echo(
            f"  {f['fee_id']:<6} rate {f['rate'].normalize()}{' (' + bounds + ')' if bounds else ''} "
            f"modes {f['transport_modes']} from {f['valid_from']}"
            + (f" to {f['valid_to']}" if f["valid_to"] else "") + f"{flag}. Source: {f['legal_source']}"
        )
        if flag:
            typer.echo(f"      UNCONFIRMED: {f['confidence_note']}")


def _stated(rate: Decimal, shape: str) -> str:
    percent = f"{rate * 100:.4f}".rstrip("0").rstrip(".")
    return f"+{percent}%" if shape == "additive" else f"{percent}% total"


if __name__ == "__main__":
    app()
