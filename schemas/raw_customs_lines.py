"""Contract of the raw customs entry lines file, as read: every column text, nothing inferred.

Grain: one row per data row of the input file (`source_row`, 1-based, header excluded). The
file's own grain (one row per customs entry line) is only checked after parsing, in
`stg_customs_lines`. Column names are the outside contract ("Input: customs entry lines" in
README / contract, named in transforms/customs_columns.py); extra columns in the file are
allowed and ignored.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.common import strictly_increasing_rows


class RawCustomsLines(pa.DataFrameModel):
    """All-text customs lines straight from the file: required columns present, text dtype.

    Values are not checked here (bad values become rejects, not schema errors)."""

    source_row: pl.Int64 = pa.Field(ge=1)

    @pa.check("source_row", name="source_row_strictly_increasing")
    def source_row_strictly_increasing(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """In file order without repeats (the reader's row index)."""
        return strictly_increasing_rows(data)
    entry_number: str = pa.Field(nullable=True)
    line_number: str = pa.Field(nullable=True)
    entry_date: str = pa.Field(nullable=True)
    hts_code: str = pa.Field(nullable=True)
    country_of_origin: str = pa.Field(nullable=True)
    customs_value_usd: str = pa.Field(nullable=True)
    quantity: str = pa.Field(nullable=True)
    quantity_unit: str = pa.Field(nullable=True)
    transport_mode: str = pa.Field(nullable=True)
    port_code: str = pa.Field(nullable=True)
    importer_id: str = pa.Field(nullable=True)
    declared_duty_usd: str | None = pa.Field(nullable=True)
    steel_content_value_usd: str | None = pa.Field(nullable=True)
    aluminum_content_value_usd: str | None = pa.Field(nullable=True)
    export_date: str | None = pa.Field(nullable=True)
    declared_headings: str | None = pa.Field(nullable=True)
    declared_heading_duties_usd: str | None = pa.Field(nullable=True)

    class Config:
        strict = False
