"""Contract of `stg_customs_lines`: customs entry lines parsed, checked and normalised.

Grain: one row per customs entry line, unique on (`entry_number`, `line_number`); the rows in
that order (the order of fct_duty_lines, which then shares the staged columns).
Produced by `flows/inputs/customs.py` + `transforms/stg_customs_lines.py` from the rows of an input file
that failed no row check; dtypes as in docs/architecture.md. The loader validates every staged
frame with this schema as a guard: the row checks must already have removed anything it would
refuse.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.common import month_of_entry_date, rows_after_previous
from transforms.stg_customs_lines import TRANSPORT_MODES, iso_country_codes

GRAIN = ["entry_number", "line_number"]


class StgCustomsLines(pa.DataFrameModel):
    """One row per customs entry line (grain: entry_number, line_number)."""

    entry_number: str = pa.Field(str_matches=r"^[A-Z0-9]{3}[0-9]{8}$")
    line_number: pl.Int64 = pa.Field(ge=1)
    entry_date: pl.Date
    month: str = pa.Field(str_matches=r"^[0-9]{4}-[0-9]{2}$")
    hts_code: str = pa.Field(str_matches=r"^[0-9]{10}$")
    country_of_origin: str = pa.Field(isin=list(iso_country_codes()))
    customs_value_usd: pl.Decimal(18, 2) = pa.Field(ge=0)
    quantity: pl.Decimal(38, 10) = pa.Field(ge=0, nullable=True)
    quantity_unit: str = pa.Field(str_length={"min_value": 1})
    transport_mode: str = pa.Field(isin=list(TRANSPORT_MODES))
    port_code: str = pa.Field(str_matches=r"^[0-9]{4}$")
    importer_id: str = pa.Field(str_length={"min_value": 1})
    declared_duty_usd: pl.Decimal(18, 2) = pa.Field(ge=0, nullable=True)
    steel_content_value_usd: pl.Decimal(18, 2) = pa.Field(ge=0, nullable=True)
    aluminum_content_value_usd: pl.Decimal(18, 2) = pa.Field(ge=0, nullable=True)
    export_date: pl.Date = pa.Field(nullable=True)
    declared_headings: str = pa.Field(nullable=True, str_matches=r"^99\d{2}\.\d{2}\.\d{2}(;99\d{2}\.\d{2}\.\d{2})*$")
    # ';'-separated, one per declared heading in the same order
    declared_heading_duties_usd: str = pa.Field(nullable=True)
    source_row: pl.Int64 = pa.Field(ge=1)

    @pa.dataframe_check
    def lines_strictly_increasing(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """In line order without repeats (entry_number, then line_number): so the grain is
        unique, proved in one pass without hashing."""
        return rows_after_previous(data, GRAIN)

    @pa.dataframe_check
    def month_is_entry_date_month(cls, data: pa.PolarsData) -> bool | pl.LazyFrame:
        """`month` is the `YYYY-MM` of `entry_date`."""
        return month_of_entry_date(data)

    @pa.dataframe_check
    def export_not_after_entry(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Goods are exported before (or on the day) they are entered."""
        return data.lazyframe.select((pl.col("export_date") <= pl.col("entry_date")).fill_null(True))

    class Config:
        strict = True
        ordered = True
