"""The run options: what a run takes beside its months, declared once (`RUN_PARAMETERS`), built
once into a `RunOptions` (`build_options`) and passed as that one object through the flow to
the month lifecycle (flows/run/lifecycle.py).

`RUN_PARAMETERS` are the options in command-line form, as the Prefect flows take them (a
deployment stores them as JSON): one per input kind of flows/inputs/kinds.py, then the
settings. Derived from it: the flows' signatures (`takes_run_parameters`), `build_options` and
the `run`/`backfill`/`serve` options of the command line (flows/cli/run_options.py). The
command line builds the options once and hands the object to the flow; a flow started
otherwise (a deployment, a Python caller) builds them from its parameters.

Which inputs a run takes comes from the input kinds: no input given → the kinds' embedded
samples; any input given → only the inputs given, each as given (a path, a path with
`{month}`, or for the cluster an fsspec URL). The cluster options' default
(`DEFAULT_PARTITION_LINES`) is flows/config.py's, for the CLI and the cluster flow alike.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.config import DEFAULT_MAX_REJECT_RATE, DEFAULT_PARTITION_LINES, settings
from flows.inputs.kinds import INPUT_KINDS, INPUT_NAMES, KINDS, SAMPLE_INPUTS

__all__ = [
    "DEFAULT_PARTITION_LINES", "RUN_PARAMETERS", "RunOptions", "RunParameters", "build_options", "check_inputs",
    "default_inputs", "given_inputs", "options_of", "takes_run_parameters",
]

# The run parameters by name, in command-line form (flow parameter name → value).
RunParameters = dict[str, Any]


@dataclass(frozen=True)
class RunOptions:
    db_path: Path
    exports_dir: Path
    inputs: Mapping[str, str | Path]  # kind → location, as given (month_inputs resolves `{month}`)
    schedule_path: Path | None = None
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE
    scenarios: tuple[str, ...] = ()
    wait_lock_seconds: float = 0.0
    allow_empty: bool = False  # publish a month whose inputs hold no rows of it (empty)
    customs_map: str | None = None  # `--customs-map NAME|PATH` the customs input is read through


def _parameter(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


RUN_PARAMETERS: tuple[inspect.Parameter, ...] = (
    *(_parameter(kind.name, str | None) for kind in KINDS),  # where each input is
    _parameter("schedule_path", str | None),
    _parameter("db", str | None),
    _parameter("exports", str | None),
    _parameter("max_reject_rate", float, DEFAULT_MAX_REJECT_RATE),
    _parameter("scenarios", list[str] | None),
    _parameter("wait_lock_seconds", float, 0.0),
    _parameter("allow_empty", bool, False),
    _parameter("customs_map", str | None),
)
RUN_DEFAULTS: RunParameters = {parameter.name: parameter.default for parameter in RUN_PARAMETERS}


def default_inputs() -> dict[str, Path]:
    """The sample inputs whose kind has a loader registered."""
    return {kind: path for kind, path in SAMPLE_INPUTS.items() if kind in INPUT_KINDS}


def check_inputs(inputs: Mapping[str, object]) -> None:
    """ValueError if an input kind has no loader, or no input is given."""
    if not inputs:
        raise ValueError("no input given: pass " + ", ".join(f"--{k}" for k in INPUT_NAMES[:-1])
                         + f" or --{INPUT_NAMES[-1]}")
    unknown = sorted(set(inputs) - set(INPUT_KINDS))
    if unknown:
        raise ValueError(
            f"no loader for input kind(s) {', '.join(unknown)} "
            f"(available: {', '.join(sorted(INPUT_KINDS))})"
        )


def given_inputs(values: Mapping[str, str | Path | None]) -> dict[str, str]:
    """kind → location of the inputs given (by input kind name), in the kinds' order."""
    return {kind: str(values[kind]) for kind in INPUT_NAMES if values.get(kind)}


def build_options(**parameters: Any) -> RunOptions:
    """Options from the run parameters (`RUN_PARAMETERS`; those not given take their
    defaults): no input given → the embedded samples; any input given → only the inputs
    given. Unset paths come from flows.config.settings(). TypeError for an unknown parameter,
    ValueError for a customs map without a customs input."""
    unknown = sorted(set(parameters) - set(RUN_DEFAULTS))
    if unknown:
        raise TypeError(f"build_options() got unexpected keyword argument(s) {', '.join(unknown)}")
    values = RUN_DEFAULTS | parameters
    given = given_inputs(values)
    chosen: Mapping[str, str | Path] = given or default_inputs()
    check_inputs(chosen)
    if values["customs_map"] and "customs" not in given:
        raise ValueError("--customs-map needs --customs FILE (the embedded sample is in the contract layout)")
    resolved = settings()
    return RunOptions(
        db_path=Path(values["db"]) if values["db"] else resolved.db_path,
        exports_dir=Path(values["exports"]) if values["exports"] else resolved.exports_dir,
        inputs=chosen,
        schedule_path=Path(values["schedule_path"]) if values["schedule_path"] else None,
        max_reject_rate=values["max_reject_rate"],
        scenarios=tuple(values["scenarios"] or ()),
        wait_lock_seconds=values["wait_lock_seconds"],
        allow_empty=values["allow_empty"],
        customs_map=values["customs_map"] or None,
    )


def options_of(options: RunOptions | None, parameters: Mapping[str, Any]) -> RunOptions:
    """A flow's run options: those its caller built (`options`), else built from its run
    parameters. TypeError when both are given."""
    if options is None:
        return build_options(**parameters)
    if any(parameters.get(name, default) != default for name, default in RUN_DEFAULTS.items()):
        raise TypeError("give the run options or the run parameters, not both")
    return options


def takes_run_parameters(*, leave_out: Sequence[str] = ()) -> Callable[[Callable], Callable]:
    """Give a flow function `f(<own parameters>, *, options=None, **parameters)` the run
    parameters in its signature (Prefect reads a flow's parameters, and a deployment's, from
    its signature): its own positional parameters, the run parameters but `leave_out`, then
    its own keyword-only ones. The function gets the run parameters given in `parameters`."""

    def decorate(function: Callable) -> Callable:
        signature = inspect.signature(function, eval_str=True)
        own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        keyword_only = [p for p in own if p.kind is inspect.Parameter.KEYWORD_ONLY]
        positional = [p for p in own if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        run = [p for p in RUN_PARAMETERS if p.name not in leave_out]
        function.__signature__ = signature.replace(parameters=[*positional, *run, *keyword_only])  # type: ignore[attr-defined]
        return function

    return decorate
