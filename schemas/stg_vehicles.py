"""Contract of `stg_vehicles`: imported vehicles parsed, checked and normalised.

Grain: one row per vehicle, unique on `vin`. Produced by `flows/inputs/vehicles.py` +
`transforms/stg_vehicles.py` from the rows of a vehicles file that failed no row check; each
row references a staged customs line (`entry_number`, `line_number`) whose `entry_date` and
`month` it carries. The loader validates every staged frame with this schema as a guard.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from transforms.stg_vehicles import FIRST_MODEL_YEAR, PROPULSIONS, VEHICLE_CLASSES
from transforms.vin import VIN_RE


class StgVehicles(pa.DataFrameModel):
    """One row per vehicle (grain: vin)."""

    vin: str = pa.Field(str_matches=VIN_RE, unique=True)
    entry_number: str = pa.Field(str_matches=r"^[A-Z0-9]{3}[0-9]{8}$")
    line_number: pl.Int64 = pa.Field(ge=1)
    entry_date: pl.Date
    month: str = pa.Field(str_matches=r"^[0-9]{4}-(0[1-9]|1[0-2])$")
    make: str = pa.Field(str_length={"min_value": 1})
    model: str = pa.Field(str_length={"min_value": 1})
    model_year: pl.Int64 = pa.Field(ge=FIRST_MODEL_YEAR)
    vehicle_class: str = pa.Field(isin=list(VEHICLE_CLASSES))
    propulsion: str = pa.Field(isin=list(PROPULSIONS))
    engine_cc: pl.Int64 = pa.Field(gt=0, nullable=True)
    gvw_kg: pl.Int64 = pa.Field(gt=0)
    msrp_usd: pl.Decimal(18, 2) = pa.Field(ge=0)
    customs_value_usd: pl.Decimal(18, 2) = pa.Field(ge=0)
    source_row: pl.Int64 = pa.Field(ge=1, unique=True)

    @pa.dataframe_check
    def month_is_entry_date_month(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """`month` is the `YYYY-MM` of `entry_date`."""
        return data.lazyframe.select(pl.col("month") == pl.col("entry_date").dt.strftime("%Y-%m"))

    class Config:
        strict = True
        ordered = True
