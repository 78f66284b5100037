"""stg_vehicles: parse, check and normalise the all-text vehicles file (one row per VIN).

Pure Polars, same pattern as `stg_customs_lines`: `parse_vehicles` adds typed helper columns
(prefixed `_`) next to the raw text, `vehicle_checks` is the table of row rules over that frame
(failures become `rejects` rows through `transforms.rejects`), `stage_vehicles` turns the rows
that passed into the staged table.

The customs lines give context: a vehicle must reference a customs line of the customs file
(`customs_line_exists`) that was itself staged (`customs_line_staged`), and its model year may
be at most the line's entry year + 1. Without that context (`tariffcost validate --kind
vehicles` on the file alone) those rules are skipped.

Normalisation: whitespace stripped; VIN upper case; entry number upper case without dashes;
vehicle class and propulsion lower case.
"""

from __future__ import annotations

import polars as pl

from transforms.order import sorted_by
from transforms.rejects import SOURCE_ROW, RowCheck, one_of
from transforms.stg_customs_lines import (
    MAX_LINE_USD,
    MONEY,
    MONEY_DECIMALS,
    clean,
    decimal_checks,
    decimal_of,
    entry_line_key_checks,
    integer_of,
    normalised_entry_number,
    with_text_columns,
)
from transforms.vin import FORBIDDEN_LETTERS_RE, VIN_LENGTH, check_digit, check_digit_ok, is_well_formed

REQUIRED_COLUMNS: tuple[str, ...] = (
    "vin",
    "entry_number",
    "line_number",
    "make",
    "model",
    "model_year",
    "vehicle_class",
    "propulsion",
    "engine_cc",
    "gvw_kg",
    "msrp_usd",
    "customs_value_usd",
)
# Columns that must hold a value (engine_cc is empty for vehicles without an engine).
NOT_EMPTY_COLUMNS: tuple[str, ...] = tuple(c for c in REQUIRED_COLUMNS if c != "engine_cc")

VEHICLE_CLASSES: tuple[str, ...] = ("passenger", "goods")
# The contract's propulsion values, plus diesel hybrids and `other`, needed to reach HTS
# 8703.50, .70, .90 and 8704.41-.43, .90 (data/vehicles/README.md).
PROPULSIONS: tuple[str, ...] = (
    "petrol",
    "diesel",
    "hybrid",
    "plug_in_hybrid",
    "diesel_hybrid",
    "diesel_plug_in_hybrid",
    "electric",
    "fuel_cell",
    "other",
)
WITHOUT_ENGINE: tuple[str, ...] = ("electric", "fuel_cell")
WITH_ENGINE: tuple[str, ...] = tuple(p for p in PROPULSIONS if p not in (*WITHOUT_ENGINE, "other"))
FIRST_MODEL_YEAR = 1981  # 17-character VINs with a check digit are required from model year 1981

LINE_KEY_COLUMNS: tuple[str, ...] = ("entry_number", "line_number", "entry_date", "staged")

STG_COLUMNS: tuple[str, ...] = (
    "vin",
    "entry_number",
    "line_number",
    "entry_date",
    "month",
    "make",
    "model",
    "model_year",
    "vehicle_class",
    "propulsion",
    "engine_cc",
    "gvw_kg",
    "msrp_usd",
    "customs_value_usd",
    SOURCE_ROW,
)


def parse_vehicles(raw: pl.DataFrame, line_keys: pl.DataFrame | None) -> pl.DataFrame:
    """The raw all-text vehicles plus typed helper columns `_<column>` (null where the text
    does not parse) and the customs line context: `_line_entry_date` (Date), `_line_in_file`
    and `_line_staged` (Boolean; null when `line_keys` is None, i.e. no context).

    line_keys: one row per customs line of the customs file: `entry_number` (normalised),
    `line_number` Int64, `entry_date` Date (null when unparseable), `staged` Boolean (the line
    passed the customs checks). Row order of `raw` is kept."""
    parsed = with_text_columns(raw, REQUIRED_COLUMNS).with_columns(
        _vin=clean("vin").str.to_uppercase(),
        _entry_number=normalised_entry_number(clean("entry_number")),
        _line_number=integer_of(clean("line_number")),
        _make=clean("make"),
        _model=clean("model"),
        _model_year=integer_of(clean("model_year")),
        _vehicle_class=clean("vehicle_class").str.to_lowercase(),
        _propulsion=clean("propulsion").str.to_lowercase(),
        _engine_cc=integer_of(clean("engine_cc")),
        _gvw_kg=integer_of(clean("gvw_kg")),
        _msrp_usd=decimal_of(clean("msrp_usd"), MONEY),
        _customs_value_usd=decimal_of(clean("customs_value_usd"), MONEY),
    )
    if line_keys is None:
        return parsed.with_columns(
            _line_entry_date=pl.lit(None, dtype=pl.Date),
            _line_in_file=pl.lit(None, dtype=pl.Boolean),
            _line_staged=pl.lit(None, dtype=pl.Boolean),
        )
    keys = line_keys.select(
        pl.col("entry_number").alias("_entry_number"),
        pl.col("line_number").cast(pl.Int64).alias("_line_number"),
        pl.col("entry_date").alias("_line_entry_date"),
        pl.lit(True).alias("_line_in_file"),
        pl.col("staged").alias("_line_staged"),
    ).unique(["_entry_number", "_line_number"], keep="first")
    return parsed.join(
        keys, on=["_entry_number", "_line_number"], how="left", maintain_order="left"
    ).with_columns(
        pl.col("_line_in_file").fill_null(False),
        pl.col("_line_staged").fill_null(False),
    )


def _not_empty(column: str) -> RowCheck:
    return RowCheck(column, "not_empty", clean(column).is_null(), "a value is required")


def _positive_integer(column: str, what: str) -> list[RowCheck]:
    return [
        RowCheck(
            column,
            "integer",
            clean(column).is_not_null() & pl.col(f"_{column}").is_null(),
            f"must be a whole number ({what})",
        ),
        RowCheck(column, "gt_0", pl.col(f"_{column}") <= 0, "must be more than 0"),
    ]


def vehicle_checks() -> list[RowCheck]:
    """The row rules of the vehicles contract, over `parse_vehicles` output."""
    vin = pl.col("_vin")
    entry, line = pl.col("_entry_number"), pl.col("_line_number")
    propulsion, year = pl.col("_propulsion"), pl.col("_model_year")
    checks: list[RowCheck] = [_not_empty(c) for c in NOT_EMPTY_COLUMNS]
    checks += [
        RowCheck("vin", "vin_length", vin.str.len_chars() != VIN_LENGTH, f"must have {VIN_LENGTH} characters"),
        RowCheck(
            "vin",
            "vin_characters",
            vin.str.contains(FORBIDDEN_LETTERS_RE) | vin.str.contains(r"[^A-Z0-9]"),
            "only digits and the letters A-Z except I, O and Q (49 CFR 565.13)",
        ),
        RowCheck(
            "vin",
            "vin_check_digit",
            is_well_formed(vin) & ~check_digit_ok(vin),
            "position 9 must be the check digit of 49 CFR 565.15",
            detail=pl.concat_str(pl.lit("expected "), check_digit(vin)),
        ),
        RowCheck(
            "vin",
            "vin_unique",
            vin.is_not_null() & (pl.len().over(vin) > 1),
            "each VIN may appear once; every copy is rejected",
        ),
        *entry_line_key_checks(line),
        RowCheck(
            "entry_number,line_number",
            "customs_line_exists",
            entry.is_not_null() & line.is_not_null() & ~pl.col("_line_in_file"),
            "must reference a line (entry_number, line_number) of the customs lines file",
            value=pl.concat_str(pl.col("entry_number"), pl.col("line_number"), separator=","),
        ),
        RowCheck(
            "entry_number,line_number",
            "customs_line_staged",
            pl.col("_line_in_file") & ~pl.col("_line_staged"),
            "the customs line it references was rejected, so the vehicle cannot be costed",
            value=pl.concat_str(pl.col("entry_number"), pl.col("line_number"), separator=","),
        ),
        RowCheck(
            "model_year",
            "integer",
            clean("model_year").is_not_null() & year.is_null(),
            "must be a whole number (YYYY)",
        ),
        RowCheck(
            "model_year",
            "model_year_plausible",
            (year < FIRST_MODEL_YEAR) | (year > pl.col("_line_entry_date").dt.year() + 1),
            f"must be from {FIRST_MODEL_YEAR} to the customs line's entry year + 1",
            detail=pl.concat_str(
                pl.lit("entry year "), pl.col("_line_entry_date").dt.year().cast(pl.Utf8)
            ),
        ),
        one_of("vehicle_class", "vehicle_class_allowed", pl.col("_vehicle_class"), VEHICLE_CLASSES),
        one_of("propulsion", "propulsion_allowed", propulsion, PROPULSIONS),
        *_positive_integer("engine_cc", "cubic centimetres"),
        RowCheck(
            "engine_cc",
            "engine_cc_required",
            propulsion.is_in(WITH_ENGINE) & clean("engine_cc").is_null(),
            "a vehicle with a combustion engine needs its cylinder capacity",
        ),
        RowCheck(
            "engine_cc",
            "engine_cc_empty_without_engine",
            propulsion.is_in(WITHOUT_ENGINE) & clean("engine_cc").is_not_null(),
            "must be empty for electric and fuel cell vehicles",
        ),
        *_positive_integer("gvw_kg", "kilograms"),
    ]
    for column in ("msrp_usd", "customs_value_usd"):
        checks += decimal_checks(column, MONEY_DECIMALS, MONEY, MAX_LINE_USD)
    return checks


def stage_vehicles(passed: pl.DataFrame) -> pl.DataFrame:
    """Parsed rows that failed no check → `stg_vehicles` (typed, normalised), sorted by source
    row. `entry_date` and `month` come from the customs line (null without context)."""
    return sorted_by(passed, [SOURCE_ROW]).select(
        pl.col("_vin").alias("vin"),
        pl.col("_entry_number").alias("entry_number"),
        pl.col("_line_number").cast(pl.Int64).alias("line_number"),
        pl.col("_line_entry_date").alias("entry_date"),
        pl.col("_line_entry_date").dt.strftime("%Y-%m").alias("month"),
        pl.col("_make").alias("make"),
        pl.col("_model").alias("model"),
        pl.col("_model_year").cast(pl.Int64).alias("model_year"),
        pl.col("_vehicle_class").alias("vehicle_class"),
        pl.col("_propulsion").alias("propulsion"),
        pl.col("_engine_cc").cast(pl.Int64).alias("engine_cc"),
        pl.col("_gvw_kg").cast(pl.Int64).alias("gvw_kg"),
        pl.col("_msrp_usd").cast(MONEY).alias("msrp_usd"),
        pl.col("_customs_value_usd").cast(MONEY).alias("customs_value_usd"),
        pl.col(SOURCE_ROW).cast(pl.Int64),
    )
