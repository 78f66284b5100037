"""The run options: built once from command-line style values (`build_options`) and passed as
one `RunOptions` object through the flow to the month lifecycle (flows/run/lifecycle.py).

Which inputs a run takes comes from the input kinds (flows/inputs/kinds.py): no input given →
the kinds' embedded samples; any input given → only the inputs given. The cluster options'
default (`DEFAULT_PARTITION_LINES`) is flows/config.py's, for the CLI and the cluster flow alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from flows.config import DEFAULT_MAX_REJECT_RATE, DEFAULT_PARTITION_LINES, settings
from flows.inputs.kinds import INPUT_KINDS, INPUT_NAMES, SAMPLE_INPUTS

__all__ = ["DEFAULT_PARTITION_LINES", "RunOptions", "build_options", "check_inputs", "default_inputs", "given_inputs"]


@dataclass(frozen=True)
class RunOptions:
    db_path: Path
    exports_dir: Path
    inputs: Mapping[str, Path]
    schedule_path: Path | None = None
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE
    scenarios: tuple[str, ...] = ()
    wait_lock_seconds: float = 0.0
    allow_empty: bool = False  # publish a month whose inputs hold no rows of it (empty)
    customs_map: str | None = None  # `--customs-map NAME|PATH` the customs input is read through


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


def build_options(
    *,
    inputs: Mapping[str, str | Path | None] | None = None,
    db: str | None = None,
    exports: str | None = None,
    schedule_path: str | None = None,
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
    scenarios: Sequence[str] = (),
    wait_lock_seconds: float = 0.0,
    allow_empty: bool = False,
    customs_map: str | None = None,
    **by_kind: str | None,
) -> RunOptions:
    """Options from command-line style values, inputs given by kind (`customs=…`, or
    `inputs={kind: location}`): no input given → the embedded sample; any input given → only
    the inputs given. Unset paths come from flows.config.settings(). ValueError for a customs
    map without a customs input."""
    unknown = sorted(set(by_kind) - set(INPUT_NAMES))
    if unknown:
        raise TypeError(f"build_options() got unexpected keyword argument(s) {', '.join(unknown)}")
    given = {k: Path(v) for k, v in given_inputs({**by_kind, **(inputs or {})}).items()}
    chosen = given or default_inputs()
    check_inputs(chosen)
    resolved = settings()
    return RunOptions(
        db_path=Path(db) if db else resolved.db_path,
        exports_dir=Path(exports) if exports else resolved.exports_dir,
        inputs=chosen,
        schedule_path=Path(schedule_path) if schedule_path else None,
        max_reject_rate=max_reject_rate,
        scenarios=tuple(scenarios),
        wait_lock_seconds=wait_lock_seconds,
        allow_empty=allow_empty,
        customs_map=_customs_map_for(customs_map, given),
    )


def _customs_map_for(customs_map: str | None, given: Mapping[str, Path]) -> str | None:
    if customs_map and "customs" not in given:
        raise ValueError("--customs-map needs --customs FILE (the embedded sample is in the contract layout)")
    return customs_map or None
