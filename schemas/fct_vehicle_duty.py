"""Contract of `fct_vehicle_duty`: one row per imported vehicle (grain: vin), its share of the
duty and fees of its customs line. Mirrors `sql/fct_vehicle_duty.sql`; checked on the
collected frame before publish. Dataset-level checks (per-line sums) live in
`LINE_SUMS_SCHEMA`, a schema of their own over the per-line totals, so that a failure names
the line rather than row 0."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import common
from transforms.stg_vehicles import PROPULSIONS, VEHICLE_CLASSES
from transforms.vin import VIN_RE
from transforms.vocabulary import MONEY

SHARE = pl.Decimal(18, 6)

GRAIN = ["vin"]


def _money() -> pa.Column:
    return pa.Column(MONEY, pa.Check.ge(0))


def _cost_is_duty_plus_fees(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        pl.col("total_cost_usd") == pl.sum_horizontal("duty_usd", "fees_usd")
    )


def _month_matches_entry_date(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col("month") == pl.col("entry_date").dt.strftime("%Y-%m"))


def _ok_means_same_subheading(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        pl.col("classification_ok")
        == (pl.col("hts_declared").str.slice(0, 6) == pl.col("hts_expected")).fill_null(False)
    )


SCHEMA = pa.DataFrameSchema(
    {
        "vin": pa.Column(pl.Utf8, pa.Check.str_matches(VIN_RE)),
        "entry_number": common.entry_number(),
        "line_number": common.line_number(),
        "entry_date": pa.Column(pl.Date),
        "month": common.month(),
        "country_of_origin": common.country_of_origin(),
        "make": pa.Column(pl.Utf8),
        "model": pa.Column(pl.Utf8),
        "model_year": pa.Column(pl.Int64, pa.Check.ge(1981)),
        "vehicle_class": pa.Column(pl.Utf8, pa.Check.isin(list(VEHICLE_CLASSES))),
        "propulsion": pa.Column(pl.Utf8, pa.Check.isin(list(PROPULSIONS))),
        "engine_cc": pa.Column(pl.Int64, pa.Check.gt(0), nullable=True),
        "gvw_kg": pa.Column(pl.Int64, pa.Check.gt(0)),
        "hts_declared": common.hts_code(),
        "hts_expected": pa.Column(pl.Utf8, pa.Check.str_matches(r"^870[34][0-9]{2}$"), nullable=True),
        "classification_ok": pa.Column(pl.Boolean),
        "maker_from_wmi": pa.Column(pl.Utf8, nullable=True),
        "maker_mismatch": pa.Column(pl.Boolean, nullable=True),
        "customs_value_usd": _money(),
        "duty_usd": _money(),
        "fees_usd": _money(),
        "total_cost_usd": _money(),
        "msrp_usd": _money(),
        "duty_share_of_msrp": pa.Column(SHARE, pa.Check.ge(0), nullable=True),
    },
    checks=[
        pa.Check(_cost_is_duty_plus_fees, name="total_cost_is_duty_plus_fees"),
        pa.Check(_month_matches_entry_date, name="month_matches_entry_date"),
        pa.Check(_ok_means_same_subheading, name="classification_ok_is_hts6_equality"),
    ],
    unique=GRAIN,
    strict=True,
    ordered=True,
    name="fct_vehicle_duty",
)


def line_sums(fct_vehicle_duty: pl.DataFrame, fct_duty_lines: pl.DataFrame) -> pl.DataFrame:
    """Per customs line with vehicles: the line's duty and fees next to the sums of its
    vehicles' shares (the frame `LINE_SUMS_SCHEMA` checks)."""
    shares = fct_vehicle_duty.group_by("entry_number", "line_number").agg(
        pl.col("duty_usd").sum().cast(MONEY).alias("vehicles_duty_usd"),
        pl.col("fees_usd").sum().cast(MONEY).alias("vehicles_fees_usd"),
    )
    return shares.join(
        fct_duty_lines.select(
            "entry_number",
            "line_number",
            pl.col("total_duty_usd").alias("line_duty_usd"),
            (pl.col("mpf_usd") + pl.col("hmf_usd")).cast(MONEY).alias("line_fees_usd"),
        ),
        on=["entry_number", "line_number"],
        how="left",
    ).sort("entry_number", "line_number")


LINE_SUMS_SCHEMA = pa.DataFrameSchema(
    {
        "entry_number": pa.Column(pl.Utf8),
        "line_number": pa.Column(pl.Int64),
        "vehicles_duty_usd": pa.Column(MONEY),
        "vehicles_fees_usd": pa.Column(MONEY),
        "line_duty_usd": pa.Column(MONEY),
        "line_fees_usd": pa.Column(MONEY),
    },
    checks=[
        pa.Check(
            lambda data: data.lazyframe.select(pl.col("vehicles_duty_usd") == pl.col("line_duty_usd")),
            name="vehicle_duty_sums_to_line_duty",
        ),
        pa.Check(
            lambda data: data.lazyframe.select(pl.col("vehicles_fees_usd") == pl.col("line_fees_usd")),
            name="vehicle_fees_sum_to_line_fees",
        ),
    ],
    unique=["entry_number", "line_number"],
    strict=True,
    name="fct_vehicle_duty_line_sums",
)
