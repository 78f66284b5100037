"""The input kinds, declared once as data: each kind's name, loader, the kinds whose loaded
result it needs, its embedded sample file and its command-line help.

Derived from `KINDS`: the load stage and its load order (flows/run/lifecycle.py), the run
options' inputs and sample default (flows/run/options.py), `tariffcost validate --kind`
(flows/cli/lookup.py) and the inputs of the cluster path (flows/run/distributed.py). The CLI's
`--customs/--vehicles/--census` options and the Prefect flows' keyword parameters are still
declared per kind (Typer and Prefect read them from function signatures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.config import SAMPLE_CUSTOMS, SAMPLE_VEHICLES
from flows.inputs.census import load_census
from flows.inputs.customs import load_customs_lines
from flows.inputs.vehicles import load_vehicles


@dataclass(frozen=True)
class InputSpec:
    """One input kind. `load(path, month, schedule)` returns an object with rows_in,
    checksum_sha256, source and (for row-checked inputs) a `rejects` frame (source,
    row_number, column, check, value); a kind with `needs` is loaded after those kinds and
    its loader receives their (path, loaded result) as keyword `context`. `sample` is the
    embedded sample used when a command is given no input option (None: no sample)."""

    name: str
    load: Callable[..., Any]
    help: str
    needs: tuple[str, ...] = ()
    sample: Path | None = None


KINDS: tuple[InputSpec, ...] = (
    InputSpec(
        "customs",
        load_customs_lines,
        "Customs entry lines (CSV, Excel .xlsx or Parquet; an ACE export with --customs-map).",
        sample=SAMPLE_CUSTOMS,
    ),
    InputSpec("vehicles", load_vehicles, "Vehicles file (optional).", needs=("customs",), sample=SAMPLE_VEHICLES),
    InputSpec("census", load_census, "Census aggregate statistics (optional)."),
)

INPUT_KINDS: dict[str, InputSpec] = {kind.name: kind for kind in KINDS}
INPUT_NAMES: tuple[str, ...] = tuple(INPUT_KINDS)
# Input kind → load(path, month, schedule) (views of KINDS kept for readers of the registry).
INPUT_LOADERS: dict[str, Callable[..., Any]] = {kind.name: kind.load for kind in KINDS}
INPUT_CONTEXT: dict[str, tuple[str, ...]] = {kind.name: kind.needs for kind in KINDS if kind.needs}
SAMPLE_INPUTS: dict[str, Path] = {kind.name: kind.sample for kind in KINDS if kind.sample is not None}


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


def load_order(kinds) -> list[str]:
    """The kinds in load order: the kinds that need others after them."""
    return sorted(kinds, key=lambda k: bool(INPUT_KINDS[k].needs) if k in INPUT_KINDS else False)
