"""The run options on the command line of `run`, `backfill` and `serve`.

They are the run parameters of flows/run/options.py (`RUN_PARAMETERS`: one `--KIND` option per
input kind of flows/inputs/kinds.py, then the settings), each with its Typer option here:
`with_run_options` puts them into a command's signature (Typer reads a command's options and
its `--help` from the signature) and calls the command with their values as one mapping, the
run parameters in the flows' form (`RunParameters`: paths as text). A new input kind gets its
`--KIND` option, with its help, from its declaration alone.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from flows.cli.base import CustomsMapOpt, DbOpt, ScheduleOpt
from flows.config import shipped_scenario_names
from flows.inputs.kinds import INPUT_KINDS, MONTH_PLACEHOLDER, InputSpec, is_url
from flows.run.options import RUN_PARAMETERS


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


def input_location(value: str | None) -> str | None:
    """An input of `backfill`: an existing file, or an fsspec URL (`scheme://…`) that the
    cluster workers read (only with --cluster / --workers)."""
    if value is None or is_url(value):
        return value
    if MONTH_PLACEHOLDER in value:
        return input_file(value.removeprefix("file://"))
    path = value.removeprefix("file://")
    if not Path(path).is_file():
        raise typer.BadParameter(f"file {value!r} does not exist")
    return path


def rate_option(value: float) -> float:
    if not 0 <= value <= 1:
        raise typer.BadParameter(f"must be a fraction between 0 and 1, got {value}")
    return value


MONTH_HELP = " `{month}` in the path is the month run (es003_{month}.csv)."
URL_HELP = ": a path, or with --cluster/--workers an fsspec URL."


def input_option(kind: InputSpec, *, urls: bool) -> Any:
    """The `--KIND` option of an input kind: a file (or `{month}` path); with `urls`, on
    `backfill`, an fsspec URL too for a kind the cluster workers read from one."""
    if urls and kind.url_help:
        return Annotated[str | None, typer.Option(f"--{kind.name}", help=kind.url_help + URL_HELP,
                                                  callback=input_location)]
    return Annotated[str | None, typer.Option(f"--{kind.name}", help=kind.help + MONTH_HELP, callback=input_file)]


# The settings' options, by run parameter (flows/run/options.py RUN_PARAMETERS).
SETTING_OPTIONS: dict[str, Any] = {
    "db": DbOpt,
    "exports": Annotated[Path | None, typer.Option("--exports", help="Parquet exports root (default data/exports).")],
    "schedule_path": ScheduleOpt,
    "max_reject_rate": Annotated[
        float,
        typer.Option(
            "--max-reject-rate",
            help="Fail the run when rejected rows / rows in exceed this fraction.",
            callback=rate_option,
        ),
    ],
    "scenarios": Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            metavar="NAME|FILE",
            help="A what-if scenario to compute as well (repeatable): a shipped scenario ("
            + ", ".join(shipped_scenario_names())
            + ") or a scenario TOML file.",
        ),
    ],
    "wait_lock_seconds": Annotated[
        float,
        typer.Option(
            "--wait-lock",
            metavar="SECONDS",
            help="Wait up to SECONDS for another run's warehouse lock instead of failing at once.",
            min=0,
        ),
    ],
    "allow_empty": Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Publish a month whose inputs hold no rows of it (the month then holds nothing) instead of failing.",
        ),
    ],
    "customs_map": CustomsMapOpt,
}
# Listed in --help after the command's own options (the order the commands have always shown).
SHOWN_LAST = ("customs_map",)


def command_parameters(*, urls: bool) -> list[inspect.Parameter]:
    """The run options as command parameters (name, Typer option, default), in the run
    parameters' order."""
    return [
        p.replace(annotation=input_option(INPUT_KINDS[p.name], urls=urls) if p.name in INPUT_KINDS
                  else SETTING_OPTIONS[p.name])
        for p in RUN_PARAMETERS
    ]


def with_run_options(*, after: str, urls: bool = False) -> Callable[[Callable], Callable]:
    """Give a command `f(<own options>, *, parameters: RunParameters)` the run options: in its
    signature after its option `after` (`--customs-map` after all of its own), and called with
    their values as `parameters` (flow parameter name → value; paths as text). `urls`: the
    inputs the cluster reads may be fsspec URLs (`backfill`)."""

    def decorate(command: Callable) -> Callable:
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "parameters"]
        at = [p.name for p in own].index(after) + 1
        options = command_parameters(urls=urls)
        shown = [*own[:at], *(o for o in options if o.name not in SHOWN_LAST), *own[at:],
                 *(o for o in options if o.name in SHOWN_LAST)]

        @functools.wraps(command)
        def run_command(**values: Any) -> Any:
            parameters = {o.name: _flow_value(values.pop(o.name)) for o in options}
            return command(**values, parameters=parameters)

        positional = [p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in shown]
        run_command.__signature__ = inspect.Signature(positional, return_annotation=None)  # type: ignore[attr-defined]
        run_command.__annotations__ = {p.name: p.annotation for p in positional}
        return run_command

    return decorate


def _flow_value(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value
