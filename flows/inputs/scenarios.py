"""Read what-if scenarios: overlay files that add, end or change chapter 99 measures from a
date, applied to the schedule of the run.

A scenario file is TOML: `name` (an identifier, not `as_enacted`), `description`, and one
`[[overlay]]` table per operation with `operation` (`add` | `end` | `change`), `measure_id`
(`end` accepts a glob such as `*`), `effective_date` (a TOML date), an optional `note`, and
the measure fields it sets (`rate` as a string, e.g. "0.15", or a number; `valid_to = ""`
means open-ended; `heading_at_or_above_cap = ""` clears it). Example:
`data/schedule/scenarios/no_japan_deal.toml`.

`read_scenario(spec, schedule)`: `spec` is a shipped scenario's name (a file
`flows.config.SCENARIO_DIR/<name>.toml`) or a path to a file. The overlay rows are validated
by schemas/scenario_overlay.py, applied by transforms/scenario.py, and the resulting measures
are validated like the schedule's own (schemas/schedule.py: contract and audits). Every
problem raises `ScenarioFileError` naming file, overlay row, field, value and rule.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandera.polars as pa
import polars as pl

from flows import config
from schemas import schedule as schedule_contracts
from schemas.scenario_overlay import SCHEMA as OVERLAY_SCHEMA
from transforms.scenario import ENACTED, OVERLAY_COLUMNS, SETTABLE_FIELDS, ScenarioError, apply_overlay
from transforms.schedule import Schedule

SUFFIX = ".toml"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ROW_KEYS = {"operation", "measure_id", "effective_date", "note", *SETTABLE_FIELDS}
_EMPTY_MEANS_NULL = {field for field in SETTABLE_FIELDS if field not in ("excluded_by", "confidence_note")}


class ScenarioFileError(ValueError):
    """A scenario that cannot be found, read, or applied; the message lists every problem."""

    def __init__(self, source: str, problems: Sequence[str]):
        self.source = source
        self.problems = list(problems)
        listed = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"scenario {source}: {len(self.problems)} problem(s)\n{listed}")


def shipped_scenarios(folder: Path | None = None) -> list[str]:
    """Names of the scenarios shipped in `folder` (default SCENARIO_DIR), sorted."""
    return config.shipped_scenario_names(folder)


def scenario_path(spec: str | Path, folder: Path | None = None) -> Path:
    """The file of `spec`: an existing path, or a shipped scenario's name."""
    folder = config.SCENARIO_DIR if folder is None else folder
    text = str(spec)
    if _NAME.match(text):
        candidate = folder / f"{text}{SUFFIX}"
        if candidate.is_file():
            return candidate
        if not Path(text).exists():
            raise ScenarioFileError(text, [
                f"no shipped scenario named {text!r} (shipped: {', '.join(shipped_scenarios(folder)) or 'none'}); "
                "or pass the path of a scenario file"
            ])
    path = Path(text)
    if not path.is_file():
        raise ScenarioFileError(text, [f"no such scenario file: {path}"])
    return path


def _value_problem(row: int, key: str, value: object, rule: str) -> str:
    return f"overlay row {row}, field {key}, value {value!r}: {rule}"


def _typed(row: int, key: str, value: object, problems: list[str]) -> object:
    """One TOML value as the overlay column's Python value ('' → None where that clears)."""
    dtype = OVERLAY_COLUMNS[key]
    if value == "" and key in _EMPTY_MEANS_NULL:
        return None
    if dtype == pl.Date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        problems.append(_value_problem(row, key, value, "must be a TOML date (YYYY-MM-DD, unquoted)"))
    elif dtype == pl.Int64:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        problems.append(_value_problem(row, key, value, "must be a whole number"))
    elif isinstance(dtype, pl.Decimal):
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                number = None
            # the overlay columns are Decimal(38, 10): at most 10 decimals, 28 integer digits
            if (
                number is not None
                and number.is_finite()
                and -number.as_tuple().exponent <= dtype.scale
                and (number == 0 or number.adjusted() < dtype.precision - dtype.scale)
            ):
                return number
        rule = (
            f"must be a decimal fraction with at most {dtype.scale} decimals and "
            f"{dtype.precision - dtype.scale} digits before the point, e.g. \"0.15\""
        )
        problems.append(_value_problem(row, key, value, rule))
    else:
        if isinstance(value, str):
            return value
        problems.append(_value_problem(row, key, value, "must be a string"))
    return None


def overlay_frame(tables: list[dict], problems: list[str]) -> pl.DataFrame:
    """The `[[overlay]]` tables as a frame of OVERLAY_COLUMNS; problems appended to `problems`."""
    rows = []
    for number, table in enumerate(tables, start=1):
        if not isinstance(table, dict):
            problems.append(f"overlay row {number}: must be a table ([[overlay]])")
            continue
        unknown = sorted(set(table) - _ROW_KEYS)
        if unknown:
            problems.append(
                f"overlay row {number}: unknown field(s) {', '.join(unknown)}; allowed: operation, measure_id, "
                f"effective_date, note, {', '.join(SETTABLE_FIELDS)} (valid_from is the effective_date)"
            )
        for key in ("operation", "measure_id", "effective_date"):
            if key not in table:
                problems.append(f"overlay row {number}: field {key} is required")
        row = {column: None for column in OVERLAY_COLUMNS}
        row["row"] = number
        for key in ("operation", "measure_id", "note"):
            if key in table:
                row[key] = _typed(number, key, table[key], problems) if key != "note" else str(table[key])
        if "effective_date" in table:
            row["effective_date"] = _typed(number, "effective_date", table["effective_date"], problems)
        fields = [field for field in SETTABLE_FIELDS if field in table]
        for field in fields:
            row[field] = _typed(number, field, table[field], problems)
        row["fields_set"] = " ".join(fields)
        rows.append(row)
    return pl.DataFrame(rows, schema=OVERLAY_COLUMNS)


def _contract_problems(frame: pl.DataFrame) -> list[str]:
    try:
        OVERLAY_SCHEMA.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as error:
        rows = frame.get_column("row").to_list()
        cases = error.failure_cases.sort("index", "column", nulls_last=False)
        found = []
        for case, column, check, index in cases.select("failure_case", "column", "check", "index").iter_rows():
            where = f"overlay row {rows[int(index)]}" if index is not None and int(index) < len(rows) else "overlay"
            found.append(f"{where}, field {column}, value {case!r}: breaks check {check}")
        return found
    return []


def _result_problems(scenario: Schedule, overlay: pl.DataFrame) -> list[str]:
    """The scenario's measures checked like the schedule's: contract, then audits; each
    finding names the overlay row that produced the measure (when one did)."""
    measures = scenario.measures
    base_ids = measures.select(
        "measure_id", base=pl.col("measure_id").str.replace(r"_from_\d{8}$", "")
    )
    origin = dict(
        base_ids.join(overlay.select("measure_id", "row"), left_on="base", right_on="measure_id", how="left")
        .select("measure_id", "row").iter_rows()
    )

    def label(measure_id: str | None) -> str:
        row = origin.get(measure_id)
        return f"measure {measure_id} (overlay row {row})" if row is not None else f"measure {measure_id}"

    try:
        schedule_contracts.Measures.validate(measures, lazy=True)
    except pa.errors.SchemaErrors as error:
        ids = measures.get_column("measure_id").to_list()
        found = []
        cases = error.failure_cases.select("failure_case", "column", "check", "index")
        for case, column, check, index in cases.iter_rows():
            measure_id = ids[int(index)] if index is not None and int(index) < len(ids) else None
            found.append(f"{label(measure_id)}, field {column}, value {case!r}: breaks check {check}")
        return found
    found = [
        f"{label(measure_id)}, field scope_id, value {scope_id!r}: not a scope of the schedule"
        for _row, measure_id, scope_id in schedule_contracts.measures_with_unknown_scope(
            measures, scenario.scopes
        ).iter_rows()
    ]
    found += [
        f"{label(measure_id)}, field excluded_by, value {excluded!r}: not another measure of the scenario"
        for _row, measure_id, excluded in schedule_contracts.measures_with_unknown_exclusion(measures).iter_rows()
    ]
    found += [
        f"{label(measure_id)} is ambiguous with {label(other)}: layer {layer}, same origin and priority, "
        f"HTS prefix {prefix or '*'}, overlapping dates"
        for _row, measure_id, _row_other, other, prefix, layer in schedule_contracts.ambiguous_measures(
            measures, scenario.scopes
        ).iter_rows()
    ]
    return found


# Scenarios read in this process: (file, its bytes) → [(schedule, scenario)]. A backfill reads
# the run's scenarios for every month against one schedule object; reading, applying and
# checking the three shipped ones costs about 0.25 s, each month.
_READ: dict[tuple[str, bytes], list[tuple[Schedule, Schedule]]] = {}
_READ_LIMIT = 32  # files (the last four schedules each)


def read_scenario(spec: str | Path, schedule: Schedule, folder: Path | None = None) -> Schedule:
    """The schedule with the scenario `spec` (shipped name or file path) applied; its `name`
    is the scenario's name. Raises ScenarioFileError listing every problem. The same file
    (same bytes) read again against the same schedule object gives the scenario read before."""
    path = scenario_path(spec, folder)
    content = path.read_bytes()
    key = (str(path), content)
    for base, scenario in _READ.get(key, []):
        if base is schedule:
            return scenario
    scenario = _read_scenario(path, content, schedule)
    if len(_READ) >= _READ_LIMIT:
        _READ.clear()
    _READ[key] = [*_READ.get(key, [])[-3:], (schedule, scenario)]
    return scenario


def _read_scenario(path: Path, content: bytes, schedule: Schedule) -> Schedule:
    source = str(path)
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ScenarioFileError(source, [f"not valid TOML: {error}"]) from error
    problems: list[str] = []
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(f"field name, value {name!r}: must be an identifier (lower case, digits, _)")
    elif name == ENACTED:
        problems.append(f"field name, value {name!r}: reserved for the schedule as enacted")
    if not isinstance(data.get("description"), str) or not data["description"].strip():
        problems.append("field description: a non-empty description is required")
    unknown = sorted(set(data) - {"name", "description", "overlay"})
    if unknown:
        problems.append(f"unknown top-level field(s) {', '.join(unknown)}; allowed: name, description, [[overlay]]")
    tables = data.get("overlay")
    if not isinstance(tables, list) or not tables:
        problems.append("at least one [[overlay]] table is required")
        raise ScenarioFileError(source, problems)
    overlay = overlay_frame(tables, problems)
    if problems:
        raise ScenarioFileError(source, problems)
    problems = _contract_problems(overlay)
    if problems:
        raise ScenarioFileError(source, problems)
    try:
        scenario = apply_overlay(schedule, overlay, name)
    except ScenarioError as error:
        raise ScenarioFileError(source, [str(error)]) from error
    problems = _result_problems(scenario, overlay)
    if problems:
        raise ScenarioFileError(source, problems)
    return scenario


def read_scenarios(specs: Sequence[str | Path], schedule: Schedule, folder: Path | None = None) -> dict[str, Schedule]:
    """Scenario name → schedule, in the order given. Two specs with one name are an error."""
    scenarios: dict[str, Schedule] = {}
    for spec in specs:
        scenario = read_scenario(spec, schedule, folder)
        if scenario.name in scenarios:
            raise ScenarioFileError(str(spec), [f"scenario name {scenario.name!r} is given twice"])
        scenarios[scenario.name] = scenario
    return scenarios
