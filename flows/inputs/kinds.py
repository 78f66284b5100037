"""The input kinds, declared once as data: each kind's name, loader, file validator, the kinds
whose loaded result it needs, its embedded sample file, its command-line help and its notes
for the run summary.

Derived from `KINDS`: the load stage and its load order (flows/run/stages.py), the run
options' inputs and sample default and the Prefect flows' input parameters
(flows/run/options.py), the `--customs/--vehicles/--census` options of `run`, `backfill` and
`serve` (flows/cli/run_options.py), `tariffcost validate --kind` (flows/cli/base.py
`InputKind`), the summary's notes (flows/run/lifecycle.py) and the inputs of the cluster path
(flows/run/distributed.py). A new kind is one `InputSpec` here plus its own files: loader
module (flows/inputs/), staging transform, schemas and tests.

Loaders, validators and notes are named by import path and imported on first use, so that the
command line reads this module without importing Polars.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.config import SAMPLE_CUSTOMS, SAMPLE_VEHICLES

MONTH_PLACEHOLDER = "{month}"


@dataclass(frozen=True)
class InputSpec:
    """One input kind.

    loader: `module:function`, `load(path, month, schedule)` → a LoadResult
        (flows/inputs/staging.py: stg, rejects, rows_in, checksum_sha256, source); a kind with
        `needs` is loaded after those kinds and its loader receives their (path, loaded
        result) as keyword `context`.
    validator: `module:function`, `validate(path, schedule)` → the file's row problems
        (`tariffcost validate --kind NAME`).
    help: the command-line help of `--NAME`; `url_help`, when the cluster workers can read
        the kind from an fsspec URL, its help on `backfill` (None: a local path only).
    sample: the embedded sample used when a command is given no input option (None: none).
    warnings: `module:function`, `warnings(tables, loaded)` → the kind's notes for the run
        summary from the month's tables and loaded inputs (None: none).
    """

    name: str
    loader: str
    validator: str
    help: str
    needs: tuple[str, ...] = ()
    sample: Path | None = None
    url_help: str | None = None
    warnings: str | None = None

    def load(self, *args: Any, **kwargs: Any) -> Any:
        return _function(self.loader)(*args, **kwargs)

    def validate(self, *args: Any, **kwargs: Any) -> list:
        return _function(self.validator)(*args, **kwargs)


def _function(name: str) -> Callable[..., Any]:
    module, function = name.split(":")
    return getattr(importlib.import_module(module), function)


KINDS: tuple[InputSpec, ...] = (
    InputSpec(
        "customs",
        "flows.inputs.customs:load_customs_lines",
        "flows.inputs.customs:validate_customs_file",
        "Customs entry lines (CSV, Excel .xlsx or Parquet; an ACE export with --customs-map).",
        sample=SAMPLE_CUSTOMS,
        url_help="Customs entry lines (CSV or Parquet)",
    ),
    InputSpec(
        "vehicles",
        "flows.inputs.vehicles:load_vehicles",
        "flows.inputs.vehicles:validate_vehicles_file",
        "Vehicles file (optional).",
        needs=("customs",),
        sample=SAMPLE_VEHICLES,
        url_help="Vehicles file (optional)",
        warnings="flows.inputs.vehicles:vehicle_warnings",
    ),
    InputSpec(
        "census",
        "flows.inputs.census:load_census",
        "flows.inputs.census:validate_census_file",
        "Census aggregate statistics (optional).",
        warnings="flows.inputs.census:census_warnings",
    ),
)

INPUT_KINDS: dict[str, InputSpec] = {kind.name: kind for kind in KINDS}
INPUT_NAMES: tuple[str, ...] = tuple(INPUT_KINDS)
SAMPLE_INPUTS: dict[str, Path] = {kind.name: kind.sample for kind in KINDS if kind.sample is not None}


# --------------------------------------------------------------------------------------------
# loading and validating


def load_input(kind: str, path: Path, month: str, schedule: Any, loaded: dict[str, Any],
               locate: Callable[[str], Path], **options: Any) -> Any:
    """Load one input of `kind` from `path`; a kind that needs other inputs receives them as
    `context` ({dep: (locate(dep), loaded[dep])} for the needed kinds already in `loaded`);
    `options` are passed on to its loader (e.g. the customs loader's `customs_map`)."""
    spec = INPUT_KINDS[kind]
    if not spec.needs:
        return spec.load(path, month, schedule, **options)
    context = {dep: (locate(dep), loaded[dep]) for dep in spec.needs if dep in loaded}
    return spec.load(path, month, schedule, context=context, **options)


def input_warnings(tables: Mapping[str, Any], loaded: Mapping[str, Any]) -> list[str]:
    """Every input kind's notes for the run summary (its `warnings`), in the kinds' order."""
    return [note for kind in KINDS if kind.warnings for note in _function(kind.warnings)(tables, loaded)]


def load_order(kinds) -> list[str]:
    """The kinds in load order: the kinds that need others after them."""
    return sorted(kinds, key=lambda k: bool(INPUT_KINDS[k].needs) if k in INPUT_KINDS else False)


def validate_file(path: Path, kind: str, schedule: Any, customs_map: Any = None) -> list:
    """Every problem of an input file against its contract (`tariffcost validate`): one
    Problem (flows/inputs/problems.py) per failing (row, check), sorted by row then column; a
    schema-level problem is a single Problem with row None. Prints nothing. Raises ValueError
    for an unknown kind (or a customs map given for a kind other than customs)."""
    from flows.inputs.files import InputSchemaError

    if kind not in INPUT_KINDS:
        known = ", ".join(sorted(INPUT_KINDS))
        raise ValueError(f"no validator registered for input kind {kind!r} (registered: {known})")
    if customs_map is not None and kind != "customs":
        raise ValueError(f"--customs-map applies to --kind customs only, not {kind!r}")
    options = {"customs_map": customs_map} if customs_map is not None else {}
    try:
        return INPUT_KINDS[kind].validate(Path(path), schedule, **options)
    except InputSchemaError as error:
        return [error.as_problem()]


# --------------------------------------------------------------------------------------------
# the inputs of a month


def is_url(location: str | Path) -> bool:
    """An input given as an fsspec URL (`scheme://…` other than `file://`), read by the cluster."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


class InputMissing(FileNotFoundError):
    """An input file named for the month (a `{month}` path) does not exist."""


def month_path(location: str | Path, month: str) -> Path:
    """An input path for `month`: `{month}` in it replaced by YYYY-MM (`es003_{month}.csv`)."""
    return Path(str(location).replace(MONTH_PLACEHOLDER, month))


def month_inputs(inputs: Mapping[str, str | Path], month: str) -> dict[str, Path]:
    """The inputs of `month` (kind → path, `{month}` filled in); InputMissing, naming the file
    and the option, when a `{month}` path names no file."""
    resolved = {kind: month_path(location, month) for kind, location in inputs.items()}
    for kind, path in resolved.items():
        if MONTH_PLACEHOLDER in str(inputs[kind]) and not is_url(inputs[kind]) and not path.is_file():
            raise InputMissing(f"{path} does not exist (--{kind} {inputs[kind]} for {month})")
    return resolved
