"""fct_vehicle_duty: one row per imported vehicle (VIN) with its share of the duty and fees of
the customs line it was entered on, the HTS subheading its attributes call for, and the maker
its VIN's WMI names.

Pure Polars. Inputs: `stg_vehicles` (schemas/stg_vehicles.py), `fct_duty_lines`
(schemas/fct_duty_lines.py) and three small reference frames the flow reads:
the classification table (data/vehicles/hts_classification.csv), the vPIC WMI table and the
brand aliases (data/vehicles/make_aliases.csv).

Allocation: a line's `total_duty_usd` and its fees (`mpf_usd + hmf_usd`) are each split over
the line's vehicles in proportion to their `customs_value_usd`, in integer cents by largest
remainder (each vehicle gets the floor of its exact share; the cents left over go one each to
the largest fractional remainders, ties to the lower VIN). The shares sum back to the line
exactly. When every vehicle of a line is worth 0 the split is equal. When the vehicles' values
do not add up to the line's value the split is still by share, and the line is reported in
`warnings` (check `vehicle_values_do_not_sum`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from transforms.vin import with_maker_from_wmi
from transforms.vocabulary import MONEY

EXACT = pl.Decimal(38, 10)
SHARE = pl.Decimal(18, 6)
_CENTS = pl.Int128
_ONE_CENT = pl.lit(Decimal("0.01"), dtype=MONEY)

GRAIN = ["vin"]
LINE_KEY = ["entry_number", "line_number"]

FCT_VEHICLE_DUTY_COLUMNS = [
    "vin",
    "entry_number",
    "line_number",
    "entry_date",
    "month",
    "country_of_origin",
    "make",
    "model",
    "model_year",
    "vehicle_class",
    "propulsion",
    "engine_cc",
    "gvw_kg",
    "hts_declared",
    "hts_expected",
    "classification_ok",
    "maker_from_wmi",
    "maker_mismatch",
    "customs_value_usd",
    "duty_usd",
    "fees_usd",
    "total_cost_usd",
    "msrp_usd",
    "duty_share_of_msrp",
]
WARNING_COLUMNS = ["entry_number", "line_number", "month", "check", "message"]
CLASSIFICATION_COLUMNS = [
    "vehicle_class",
    "propulsion",
    "engine_cc_over",
    "engine_cc_max",
    "gvw_kg_over",
    "gvw_kg_max",
    "hts6",
]


@dataclass(frozen=True)
class VehicleReferences:
    """The reference frames vehicle costing needs (read by flows/inputs/vehicles.py).

    classification: data/vehicles/hts_classification.csv (`CLASSIFICATION_COLUMNS`, bounds
        Int64, null = open).
    wmi_makers: `wmi`, `common_name`, `manufacturer_name` (data/reference/vpic).
    make_aliases: `make`, `maker` (data/vehicles/make_aliases.csv)."""

    classification: pl.DataFrame
    wmi_makers: pl.DataFrame
    make_aliases: pl.DataFrame


@dataclass(frozen=True)
class VehicleDuty:
    """fct_vehicle_duty rows, and one warnings row per (line, problem) found on the way."""

    fct_vehicle_duty: pl.DataFrame
    warnings: pl.DataFrame


def _in_range(value: pl.Expr, over: pl.Expr, maximum: pl.Expr) -> pl.Expr:
    """over < value <= maximum, a null bound being open; null value fails a set bound."""
    return (over.is_null() | (value > over)) & (maximum.is_null() | (value <= maximum))


def _low(column: str) -> pl.Expr:
    """An exclusive lower bound, open (null) read as -1."""
    return pl.col(column).cast(pl.Int64).fill_null(-1)


def _high(column: str) -> pl.Expr:
    """An inclusive upper bound, open (null) read as practically infinite."""
    return pl.col(column).cast(pl.Int64).fill_null(2**62)


def classification_overlaps(classification: pl.DataFrame) -> pl.DataFrame:
    """Pairs of rows of the classification table whose ranges overlap for the same class and
    propulsion (an ambiguous table); empty means the table is sound. Bounds are integers, so
    two ranges overlap when each starts below the other's end."""
    table = classification.with_row_index("row")
    return (
        table.join(table, on=["vehicle_class", "propulsion"], suffix="_other")
        .filter(pl.col("row") < pl.col("row_other"))
        .filter(
            (_low("engine_cc_over") < _high("engine_cc_max_other"))
            & (_low("engine_cc_over_other") < _high("engine_cc_max"))
            & (_low("gvw_kg_over") < _high("gvw_kg_max_other"))
            & (_low("gvw_kg_over_other") < _high("gvw_kg_max"))
        )
        .select("vehicle_class", "propulsion", "row", "row_other", "hts6", "hts6_other")
        .sort("row", "row_other")
    )


def classify_vehicles(vehicles: pl.DataFrame, classification: pl.DataFrame) -> pl.DataFrame:
    """`vehicles` (needs vehicle_class, propulsion, engine_cc, gvw_kg) plus `hts_expected`:
    the HTS6 of the classification row whose class and propulsion match and whose engine and
    weight ranges contain the vehicle; null when no row does. Same rows, same order.

    Raises ValueError when the table is ambiguous (see `classification_overlaps`)."""
    overlaps = classification_overlaps(classification)
    if overlaps.height:
        first = overlaps.row(0, named=True)
        raise ValueError(
            "vehicle HTS classification table is ambiguous: rows "
            f"{first['row'] + 1} and {first['row_other'] + 1} ({first['vehicle_class']}, "
            f"{first['propulsion']}) overlap ({first['hts6']} vs {first['hts6_other']})"
        )
    indexed = vehicles.with_row_index("_vehicle_row")
    matched = (
        indexed.select("_vehicle_row", "vehicle_class", "propulsion", "engine_cc", "gvw_kg")
        .join(classification.select(CLASSIFICATION_COLUMNS), on=["vehicle_class", "propulsion"])
        .filter(
            _in_range(pl.col("engine_cc"), pl.col("engine_cc_over"), pl.col("engine_cc_max"))
            & _in_range(pl.col("gvw_kg"), pl.col("gvw_kg_over"), pl.col("gvw_kg_max"))
        )
        .select("_vehicle_row", pl.col("hts6").alias("hts_expected"))
    )
    return (
        indexed.join(matched, on="_vehicle_row", how="left")
        .sort("_vehicle_row")
        .drop("_vehicle_row")
    )


def allocate_cents(
    frame: pl.DataFrame, *, amount: str, weight: str, by: list[str], tie_break: list[str], out: str
) -> pl.DataFrame:
    """`frame` plus `out` (Decimal(18,2)): each group's `amount` (a Decimal(18,2) ≥ 0 repeated
    on every row of the group) split over the group's rows in proportion to `weight`
    (Decimal ≥ 0) by largest remainder in cents; equal weights when the group's weights are
    all 0. Each share is within one cent of the exact share and the shares sum to `amount`.
    Ties between equal remainders go to the lower `tie_break`. Same rows, same order."""
    indexed = frame.with_row_index("_alloc_row")
    weight_cents = (pl.col(weight).cast(MONEY) * pl.lit(100)).cast(_CENTS)
    total_weight = weight_cents.sum().over(by)
    shares = (
        indexed.select(
            "_alloc_row",
            *by,
            *tie_break,
            (pl.col(amount).cast(MONEY) * pl.lit(100)).cast(_CENTS).alias("_amount_cents"),
            pl.when(total_weight > 0)
            .then(weight_cents)
            .otherwise(pl.lit(1, dtype=_CENTS))
            .alias("_weight"),
        )
        .with_columns(_weight_total=pl.col("_weight").sum().over(by))
        .with_columns(
            _floor=pl.col("_amount_cents") * pl.col("_weight") // pl.col("_weight_total"),
            _remainder=pl.col("_amount_cents") * pl.col("_weight") % pl.col("_weight_total"),
        )
        .with_columns(_left_over=pl.col("_amount_cents").first().over(by) - pl.col("_floor").sum().over(by))
        .sort([*by, "_remainder", *tie_break], descending=[False] * len(by) + [True] + [False] * len(tie_break))
        .with_columns(_rank=pl.int_range(pl.len(), dtype=_CENTS).over(by))
        .select(
            "_alloc_row",
            (
                (pl.col("_floor") + (pl.col("_rank") < pl.col("_left_over")).cast(_CENTS)).cast(MONEY)
                * _ONE_CENT
            )
            .cast(MONEY)
            .alias(out),
        )
    )
    return indexed.join(shares, on="_alloc_row", how="left").sort("_alloc_row").drop("_alloc_row")


def vehicle_line_warnings(fct_vehicle_duty: pl.DataFrame, fct_duty_lines: pl.DataFrame) -> pl.DataFrame:
    """One row per (line, problem) where a line's vehicles disagree with it (`WARNING_COLUMNS`):
    `vehicle_values_do_not_sum`, `vehicle_count_differs_from_quantity` (lines in `NO`) and
    `classification_mismatch` (vehicles whose attributes call for another HTS6)."""
    vehicles_on_lines = fct_vehicle_duty.join(
        fct_duty_lines.select(
            *LINE_KEY,
            pl.col("customs_value_usd").alias("line_value"),
            pl.col("quantity").alias("line_quantity"),
            pl.col("quantity_unit").alias("line_quantity_unit"),
        ),
        on=LINE_KEY,
        how="inner",
    )
    per_line = vehicles_on_lines.group_by(LINE_KEY).agg(
        pl.col("month").first(),
        pl.len().alias("vehicles"),
        pl.col("customs_value_usd").sum().alias("vehicles_value"),
        pl.col("line_value").first(),
        pl.col("line_quantity").first(),
        pl.col("line_quantity_unit").first(),
        pl.col("hts_declared").first(),
        (~pl.col("classification_ok")).sum().alias("misclassified"),
        pl.col("hts_expected").filter(~pl.col("classification_ok")).unique().sort().alias("expected"),
    )
    values = per_line.filter(pl.col("vehicles_value") != pl.col("line_value")).select(
        *LINE_KEY,
        "month",
        pl.lit("vehicle_values_do_not_sum").alias("check"),
        pl.format(
            "the {} vehicles are worth {} USD but the line is worth {} USD; duty and fees were "
            "allocated by each vehicle's share of the vehicles' total",
            "vehicles",
            pl.col("vehicles_value").cast(pl.Utf8),
            pl.col("line_value").cast(pl.Utf8),
        ).alias("message"),
    )
    counts = per_line.filter(
        (pl.col("line_quantity_unit") == "NO")
        & (pl.col("vehicles").cast(EXACT) != pl.col("line_quantity").cast(EXACT))
    ).select(
        *LINE_KEY,
        "month",
        pl.lit("vehicle_count_differs_from_quantity").alias("check"),
        pl.format(
            "{} vehicles reference the line but its quantity is {} NO",
            "vehicles",
            pl.col("line_quantity").cast(pl.Int64).cast(pl.Utf8),
        ).alias("message"),
    )
    classes = per_line.filter(pl.col("misclassified") > 0).select(
        *LINE_KEY,
        "month",
        pl.lit("classification_mismatch").alias("check"),
        pl.format(
            "{} vehicle(s) on this {} line classify as {} by their class, propulsion, engine "
            "and weight",
            "misclassified",
            "hts_declared",
            pl.col("expected").list.eval(pl.element().fill_null("no subheading")).list.join(", "),
        ).alias("message"),
    )
    return (
        pl.concat([values, counts, classes])
        .select(WARNING_COLUMNS)
        .sort("entry_number", "line_number", "check")
    )


def build_fct_vehicle_duty(
    stg_vehicles: pl.DataFrame, fct_duty_lines: pl.DataFrame, references: VehicleReferences
) -> VehicleDuty:
    """Cost every staged vehicle whose customs line is in `fct_duty_lines`; vehicles whose
    line is missing there are left out and reported (`line_not_costed`)."""
    lines = fct_duty_lines.select(
        *LINE_KEY,
        pl.col("month").alias("line_month"),
        pl.col("entry_date").alias("line_entry_date"),
        "country_of_origin",
        pl.col("hts_code").alias("hts_declared"),
        pl.col("total_duty_usd").alias("line_duty"),
        (pl.col("mpf_usd") + pl.col("hmf_usd")).cast(MONEY).alias("line_fees"),
    )
    joined = stg_vehicles.join(lines, on=LINE_KEY, how="left", maintain_order="left")
    missing = (
        joined.filter(pl.col("line_duty").is_null())
        .group_by(LINE_KEY)
        .agg(pl.col("month").first(), pl.len().alias("vehicles"))
        .select(
            *LINE_KEY,
            "month",
            pl.lit("line_not_costed").alias("check"),
            pl.format(
                "{} vehicle(s) reference a customs line with no duty computed; they are left out",
                "vehicles",
            ).alias("message"),
        )
    )
    costed = (
        joined.filter(pl.col("line_duty").is_not_null())
        .with_columns(entry_date=pl.col("line_entry_date"), month=pl.col("line_month"))
        .pipe(classify_vehicles, references.classification)
        .pipe(with_maker_from_wmi, references.wmi_makers, references.make_aliases)
        .pipe(allocate_cents, amount="line_duty", weight="customs_value_usd", by=LINE_KEY, tie_break=["vin"],
              out="duty_usd")
        .pipe(allocate_cents, amount="line_fees", weight="customs_value_usd", by=LINE_KEY, tie_break=["vin"],
              out="fees_usd")
        .with_columns(
            classification_ok=(pl.col("hts_declared").str.slice(0, 6) == pl.col("hts_expected")).fill_null(False),
            total_cost_usd=(pl.col("duty_usd") + pl.col("fees_usd")).cast(MONEY),
            duty_share_of_msrp=pl.when(pl.col("msrp_usd") > 0).then(
                (pl.col("duty_usd").cast(EXACT) / pl.col("msrp_usd").cast(EXACT))
                .round(6, mode="half_away_from_zero")
                .cast(SHARE)
            ),
        )
    )
    fct = costed.select(FCT_VEHICLE_DUTY_COLUMNS).sort("entry_number", "line_number", "vin")
    warnings = pl.concat([vehicle_line_warnings(fct, fct_duty_lines), missing]).sort(
        "entry_number", "line_number", "check"
    )
    return VehicleDuty(fct_vehicle_duty=fct, warnings=warnings)
