"""What every `tariffcost` command shares: the Typer app, the exit helper, the option types
and the value parsers (a bad value exits 2, with the rule it breaks)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Literal

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

from flows.config import shipped_scenario_names
from flows.inputs.kinds import MONTH_PLACEHOLDER
from flows.months import parse_month

HTS_RE = re.compile(r"^[0-9]{10}$")

class _NoFlagTypes:
    """Help that shows no value type on a flag (Typer would print `<bool>` beside `--json`
    and `--help`, which take no value)."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
                param.metavar = ""
        return params


class Command(_NoFlagTypes, TyperCommand):
    """A `tariffcost` command (every command is declared with `cls=Command`)."""


class Group(_NoFlagTypes, TyperGroup):
    """The `tariffcost` command group."""


app = typer.Typer(
    name="tariffcost",
    cls=Group,
    help="Tariff-cost batch calculator for US imports of Japanese motor vehicles and parts.",
    epilog="Exit codes: 0 success; 1 the run failed and nothing was published (or `validate` "
    "found problems); 2 bad command line. Each command's --help states its own.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SERVE_CRON = "0 6 5 * *"
SERVE_TIMEZONE = "America/New_York"


# What every command's help says about its exit codes (README "Exit codes").
BATCH_EXIT_CODES = (
    "Exit codes: 0 every month published; 1 a month failed and published nothing (the summary "
    "says why; months before it stay published), or another run holds the warehouse lock; "
    "2 bad command line."
)
LOOKUP_EXIT_CODES = "Exit codes: 0 answered; 1 the schedule cannot be read; 2 bad command line."
VALIDATE_EXIT_CODES = (
    "Exit codes: 0 no problems; 1 problems found (or the file or schedule cannot be read); "
    "2 bad command line."
)
SERVE_EXIT_CODES = "Exit codes: 0 stopped after serving; 1 no Prefect server to serve on; 2 bad command line."


# `validate --kind`: the input kinds of flows/inputs/kinds.py (INPUT_NAMES, checked equal by
# tests/cli/test_cli.py), spelled here so that the command line starts without the loaders.
InputKind = Literal["customs", "vehicles", "census"]


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


# --------------------------------------------------------------------------------------------
# option parsing (bad values exit 2)


def month_option(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_month(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def rate_option(value: float) -> float:
    if not 0 <= value <= 1:
        raise typer.BadParameter(f"must be a fraction between 0 and 1, got {value}")
    return value


def input_file(value: str | None) -> str | None:
    """An input file of `run` / `serve`: an existing file, or a path with `{month}` in it
    (the month of each run, e.g. `/data/ace/es003_{month}.csv`) whose folder exists; the
    month's file itself is checked when the month is known."""
    if value is None:
        return None
    if MONTH_PLACEHOLDER in value:
        folder = Path(value).parent
        if MONTH_PLACEHOLDER not in str(folder) and not folder.is_dir():
            raise typer.BadParameter(f"folder {str(folder)!r} of {value!r} does not exist")
        return value
    if not Path(value).is_file():
        raise typer.BadParameter(f"file {value!r} does not exist")
    return value


_MONTH_HELP = " `{month}` in the path is the month run (es003_{month}.csv)."
CustomsOpt = Annotated[
    str | None, typer.Option("--customs", help="Customs entry lines (CSV, Excel .xlsx or Parquet; an ACE export with "
                             "--customs-map)." + _MONTH_HELP,
                             callback=input_file)
]
VehiclesOpt = Annotated[
    str | None, typer.Option("--vehicles", help="Vehicles file (optional)." + _MONTH_HELP, callback=input_file)
]
CensusOpt = Annotated[
    str | None, typer.Option("--census", help="Census aggregate statistics (optional)." + _MONTH_HELP,
                             callback=input_file)
]
ScheduleOpt = Annotated[
    Path | None,
    typer.Option(
        "--schedule",
        help="A tariff schedule (schedule.toml or its folder) other than the shipped default.",
        exists=True,
    ),
]
DbOpt = Annotated[Path | None, typer.Option("--db", help="DuckDB warehouse (default data/warehouse.duckdb).")]
ExportsOpt = Annotated[Path | None, typer.Option("--exports", help="Parquet exports root (default data/exports).")]
RejectOpt = Annotated[
    float,
    typer.Option(
        "--max-reject-rate",
        help="Fail the run when rejected rows / rows in exceed this fraction.",
        callback=rate_option,
    ),
]
ScenarioOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--scenario",
        metavar="NAME|FILE",
        help="A what-if scenario to compute as well (repeatable): a shipped scenario ("
        + ", ".join(shipped_scenario_names())
        + ") or a scenario TOML file.",
    ),
]
AllowEmptyOpt = Annotated[
    bool,
    typer.Option(
        "--allow-empty",
        help="Publish a month whose inputs hold no rows of it (the month then holds nothing) instead of failing.",
    ),
]
CustomsMapOpt = Annotated[
    str | None,
    typer.Option(
        "--customs-map",
        metavar="NAME|PATH",
        help="Read --customs through a column map: a shipped map name (ace_es003, contract; "
        "data/maps/) or a TOML file.",
    ),
]
WaitLockOpt = Annotated[
    float,
    typer.Option(
        "--wait-lock",
        metavar="SECONDS",
        help="Wait up to SECONDS for another run's warehouse lock instead of failing at once.",
        min=0,
    ),
]

VerboseOpt = Annotated[
    bool, typer.Option("--verbose", help="Also print Prefect's flow and task state lines.")
]
DebugOpt = Annotated[
    bool,
    typer.Option("--debug", help="Print everything Prefect logs, tracebacks of expected failures included."),
]


def input_location(value: str | None) -> str | None:
    """An input of `backfill`: an existing file, or an fsspec URL (`scheme://…`) that the
    cluster workers read (only with --cluster / --workers)."""
    if value is None or ("://" in value and not value.startswith("file://")):
        return value
    if MONTH_PLACEHOLDER in value:
        return input_file(value.removeprefix("file://"))
    path = value.removeprefix("file://")
    if not Path(path).is_file():
        raise typer.BadParameter(f"file {value!r} does not exist")
    return path


BackfillCustomsOpt = Annotated[
    str | None,
    typer.Option(
        "--customs",
        help="Customs entry lines (CSV or Parquet): a path, or with --cluster/--workers an fsspec URL.",
        callback=input_location,
    ),
]
BackfillVehiclesOpt = Annotated[
    str | None,
    typer.Option(
        "--vehicles",
        help="Vehicles file (optional): a path, or with --cluster/--workers an fsspec URL.",
        callback=input_location,
    ),
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



def hts_option(value: str) -> str:
    code = value.replace(".", "").strip()
    if not HTS_RE.match(code):
        raise typer.BadParameter(f"must be a 10-digit HTS code (dots allowed), got {value!r}")
    return code


def origin_option(value: str) -> str:
    """The loader's rule for `country_of_origin` (transforms/stg_customs_lines.py:
    `iso_country_codes`, the `iso3166_alpha2` check): stripped, upper-cased, a current ISO
    3166-1 alpha-2 code."""
    from transforms.stg_customs_lines import ORIGIN_RULE, iso_country_codes

    code = value.strip().upper()
    if code not in iso_country_codes():
        raise typer.BadParameter(f"{ORIGIN_RULE}, got {value!r}")
    return code


def date_option(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise typer.BadParameter(f"must be a date YYYY-MM-DD, got {value!r}") from None


def money_text(value: str) -> str:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"must be a number of US dollars, got {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:
        raise typer.BadParameter(f"must be ≥ 0 with at most 2 decimals, got {value!r}")
    return value


def quantity_text(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"must be a number, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise typer.BadParameter(f"must be ≥ 0, got {value!r}")
    return value


def read_schedule_or_exit(schedule: Path | None):
    from flows.inputs.schedule import read_schedule

    try:
        return read_schedule(schedule)
    except Exception as error:
        raise fail(f"tariffcost: cannot read the schedule: {error}") from None


def read_customs_map_or_exit(spec: str):
    """The checked map of `--customs-map` (exit 2 with the map, key and value when bad)."""
    from flows.inputs.customs_maps import read_customs_map
    from schemas.customs_map import CustomsMapError

    try:
        return read_customs_map(spec)
    except CustomsMapError as error:
        raise typer.BadParameter(str(error), param_hint="--customs-map") from None


def check_customs_map(spec: str, customs: Path | str):
    """The map, checked on its own and against the customs file's headers (exit 2), before
    any row is read. A path not on this machine (a URL, a `{month}` template) is not opened."""
    cmap = read_customs_map_or_exit(spec)
    path = Path(str(customs))
    if path.is_file():
        from flows.inputs.customs_maps import check_map_headers
        from flows.inputs.files import InputSchemaError, file_headers, input_source
        from schemas.customs_map import CustomsMapError

        source = input_source(path, cmap.sheet)
        try:
            check_map_headers(cmap, file_headers(path, source, cmap.sheet), source)
        except (CustomsMapError, InputSchemaError) as error:
            raise typer.BadParameter(str(error), param_hint="--customs-map") from None
    return cmap
