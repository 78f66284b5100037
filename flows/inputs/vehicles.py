"""Load the vehicles input (one row per VIN); the vehicle marts are wired in flows/run/marts.py.

The file goes through the staging pipeline of every input (flows/inputs/staging.py: text-only
reading, the `RowCheck` table, `rejects` rows, the staging schema); the rules are in
`transforms/stg_vehicles.py`.

A vehicle belongs to the month of the customs line it references. The customs lines file
gives that context: `load_vehicles` reads its line keys (entry number, line number, entry date)
and is handed the month's loaded customs lines, so that a vehicle whose line is missing from
the customs file (`customs_line_exists`) or was rejected (`customs_line_staged`) is a reject.
Vehicles that cannot be dated (their line is missing or undated) are rejected in every month's
run, like customs rows whose date does not parse. `tariffcost validate --kind vehicles` checks
the file alone (the rules that need the customs lines are skipped).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from flows.config import DATA_DIR, REFERENCE_DIR
from flows.inputs.files import scan_text_table
from flows.inputs.problems import Problem
from flows.inputs.staging import LoadResult, Staging, file_problems, load_result, read_raw, stage_input
from flows.months import parse_month
from schemas.stg_vehicles import StgVehicles
from transforms.fct_vehicle_duty import (
    CLASSIFICATION_COLUMNS,
    VehicleReferences,
    classification_overlaps,
    vehicle_line_warnings,
)
from transforms.schedule import Schedule
from transforms.stg_customs_lines import entry_number_key, iso_date, text
from transforms.stg_vehicles import (
    REQUIRED_COLUMNS,
    parse_vehicles,
    stage_vehicles,
    vehicle_checks,
)

HTS_CLASSIFICATION = DATA_DIR / "vehicles" / "hts_classification.csv"
MAKE_ALIASES = DATA_DIR / "vehicles" / "make_aliases.csv"
WMI_MANUFACTURERS = REFERENCE_DIR / "vpic" / "wmi_manufacturers.csv"

CUSTOMS_KEY_COLUMNS = ("entry_number", "line_number", "entry_date")
VEHICLE_MART = "fct_vehicle_duty"
LINES_MART = "fct_duty_lines"
WARNING_EXAMPLES = 3


VEHICLES = Staging(
    name="vehicles",
    required_columns=REQUIRED_COLUMNS,
    optional_columns=(),
    stg_schema=StgVehicles,
    parse=parse_vehicles,  # over the customs line keys (None: the file alone)
    checks=lambda columns: vehicle_checks(),
    stage=stage_vehicles,
)
MONTH_TOTAL_COLUMNS = ("msrp_usd", "customs_value_usd")


@dataclass(frozen=True)
class VehicleLoad(LoadResult):
    """What the load stage hands to the run for the vehicles input: `stg_vehicles` rows of
    the month (schemas/stg_vehicles.py), rows_in counting the rows that cannot be dated, and
    the classification, WMI and alias tables the vehicle marts need (`references`)."""

    references: VehicleReferences


# ---------------------------------------------------------------------------- references


def read_classification(path: Path = HTS_CLASSIFICATION) -> pl.DataFrame:
    """The vehicle HTS classification table, bounds as Int64 (null = open). Raises ValueError
    naming the file, row and column for a missing column, a bound that is not a whole number,
    or overlapping rows."""
    raw = pl.read_csv(path, infer_schema=False)
    missing = [c for c in CLASSIFICATION_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(missing)}")
    bounds = ["engine_cc_over", "engine_cc_max", "gvw_kg_over", "gvw_kg_max"]
    for column in bounds:
        bad = raw.with_row_index("row", offset=1).filter(
            text(column).is_not_null() & ~text(column).str.contains(r"^[0-9]+$")
        )
        if bad.height:
            row = bad.row(0, named=True)
            raise ValueError(
                f"{path}: row {row['row']}, column {column}: {row[column]!r} is not a whole number"
            )
    table = raw.with_columns(text(c).cast(pl.Int64).alias(c) for c in bounds)
    overlaps = classification_overlaps(table)
    if overlaps.height:
        row = overlaps.row(0, named=True)
        raise ValueError(
            f"{path}: rows {row['row'] + 1} and {row['row_other'] + 1} ({row['vehicle_class']}, "
            f"{row['propulsion']}) have overlapping ranges ({row['hts6']} vs {row['hts6_other']})"
        )
    return table


def read_vehicle_references() -> VehicleReferences:
    """The classification table, the vPIC WMI table and the brand aliases of the repository."""
    return VehicleReferences(
        classification=read_classification(),
        wmi_makers=pl.read_csv(WMI_MANUFACTURERS, infer_schema=False).select(
            "wmi", "common_name", "manufacturer_name"
        ),
        make_aliases=pl.read_csv(MAKE_ALIASES, infer_schema=False).select("make", "maker"),
    )


# ---------------------------------------------------------------------------- loading


def customs_line_keys(customs_path: Path, staged: pl.DataFrame | None) -> pl.DataFrame:
    """Every line of the customs file: `entry_number` (normalised), `line_number`,
    `entry_date` (null when it does not parse) and `staged` (the line is among `staged`'s
    (entry_number, line_number); all false when `staged` is None). Lines whose keys do not
    parse are left out."""
    lazy, _ = scan_text_table(customs_path, CUSTOMS_KEY_COLUMNS, (), str(customs_path))
    line = text("line_number")
    keys = (
        lazy.select(
            entry_number_key("entry_number").alias("entry_number"),
            pl.when(line.str.contains(r"^[0-9]+$")).then(line.str.to_integer(strict=False)).alias("line_number"),
            iso_date("entry_date").alias("entry_date"),
        )
        .drop_nulls(["entry_number", "line_number"])
        .collect()
        .unique(["entry_number", "line_number"], keep="first")
    )
    staged_keys = (
        staged.select("entry_number", pl.col("line_number").cast(pl.Int64), pl.lit(True).alias("staged"))
        if staged is not None
        else pl.DataFrame(schema={"entry_number": pl.Utf8, "line_number": pl.Int64, "staged": pl.Boolean})
    )
    return keys.join(staged_keys, on=["entry_number", "line_number"], how="left").with_columns(
        pl.col("staged").fill_null(False)
    )


def load_vehicles(
    path: Path,
    month: str | None,
    schedule: Schedule | None = None,
    *,
    context: Mapping[str, tuple[Path, Any]],
) -> VehicleLoad:
    """Load the vehicles of `month` (`YYYY-MM`, the month of their customs line; None: every
    month) from a vehicles file (CSV or Parquet).

    context: must hold `customs`: (customs lines path, that input's loaded result for the
    month, whose `stg` are the staged lines). `schedule` is unused (the loader interface).
    Raises InputSchemaError for schema-level problems, ValueError without customs context or
    for a malformed month."""
    del schedule
    if month is not None:
        parse_month(month)  # ValueError for a malformed month
    if "customs" not in context:
        raise ValueError(
            f"{path}: the vehicles input needs the customs lines input (--customs): each "
            "vehicle is costed on the customs line it references"
        )
    customs_path, customs_loaded = context["customs"]
    keys = customs_line_keys(Path(customs_path), customs_loaded.stg)
    line_date = pl.col("_line_entry_date")
    # a vehicle is of its line's month; one that cannot be dated is rejected in every month
    keep = None if month is None else line_date.is_null() | (line_date.dt.strftime("%Y-%m") == month)
    staged = stage_input(Path(path), VEHICLES, keys, keep=keep)
    return load_result(staged, month_total_columns=MONTH_TOTAL_COLUMNS, result=VehicleLoad,
                  references=read_vehicle_references())


def validate_vehicles_file(path: Path, schedule: Schedule) -> list[Problem]:
    """Every row problem of a vehicles file checked alone (`tariffcost validate --kind
    vehicles`): the rules that need the customs lines are skipped."""
    del schedule
    return file_problems(read_raw(Path(path), VEHICLES), VEHICLES, None)


# ---------------------------------------------------------------------------- marts


def vehicle_warnings(tables: Mapping[str, pl.DataFrame], loaded: Mapping[str, Any] | None = None) -> list[str]:
    """Run-report lines for the vehicles of the month: per warning check, how many lines and
    the first few examples; a count of vehicles whose WMI maker disagrees with their make.
    (`loaded`: the input kinds' warnings interface, flows/inputs/kinds.py.)"""
    if VEHICLE_MART not in tables or LINES_MART not in tables:
        return []
    fct = tables[VEHICLE_MART]
    warnings = vehicle_line_warnings(fct, tables[LINES_MART])
    messages = []
    for check in warnings["check"].unique().sort().to_list():
        rows = warnings.filter(pl.col("check") == check)
        examples = "; ".join(
            f"{r['entry_number']} line {r['line_number']}: {r['message']}"
            for r in rows.head(WARNING_EXAMPLES).iter_rows(named=True)
        )
        more = f" (and {rows.height - WARNING_EXAMPLES} more)" if rows.height > WARNING_EXAMPLES else ""
        messages.append(f"vehicles {check}: {rows.height} line(s): {examples}{more}")
    mismatched = fct.filter(pl.col("maker_mismatch").fill_null(False))
    if mismatched.height:
        pairs = (
            mismatched.group_by("make", "maker_from_wmi")
            .len()
            .sort("len", "make", descending=[True, False])
            .iter_rows(named=True)
        )
        listed = ", ".join(f"{p['make']} vs WMI {p['maker_from_wmi']} ({p['len']})" for p in pairs)
        messages.append(f"vehicles maker_mismatch: {mismatched.height} vehicle(s): {listed}")
    return messages
