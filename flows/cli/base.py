"""What every `tariffcost` command shares: the Typer app, the exit helper, the option types of
more than one command and the value parsers (a bad value exits 2, with the rule it breaks).
The options of the batch commands are flows/cli/run_options.py's."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Literal

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

from flows.inputs.kinds import INPUT_NAMES
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
REFUNDS_EXIT_CODES = (
    "Exit codes: 0 files written; 1 nothing to write from (no warehouse, no ledger, or no line of the "
    "importer in it); 2 bad command line."
)
API_STATUS_EXIT_CODES = "Exit codes: 0 a shared API is running; 1 none is running; 2 bad command line."
API_STOP_EXIT_CODES = "Exit codes: 0 stopped, or none was running; 2 bad command line."


# `validate --kind`: the input kinds of flows/inputs/kinds.py.
InputKind = Literal[INPUT_NAMES]  # type: ignore[valid-type]


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


ScheduleOpt = Annotated[
    Path | None,
    typer.Option(
        "--schedule",
        help="A tariff schedule (schedule.toml or its folder) other than the shipped default.",
        exists=True,
    ),
]
DbOpt = Annotated[Path | None, typer.Option("--db", help="DuckDB warehouse (default data/warehouse.duckdb).")]
CustomsMapOpt = Annotated[
    str | None,
    typer.Option(
        "--customs-map",
        metavar="NAME|PATH",
        help="Read --customs through a column map: a shipped map name (ace_es003, contract; "
        "data/maps/) or a TOML file.",
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
