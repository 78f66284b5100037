"""Contract of a scenario overlay's rows (`[[overlay]]` tables of a scenario file): one row
per operation (grain: `row`, the 1-based position of the table in the file).

Field values obey the same rules as the schedule's measures (schemas/schedule.py); a field
listed in `fields_set` with a null value is being cleared, which only `valid_to` (open-ended)
and `heading_at_or_above_cap` allow. The measures an overlay produces are validated again as
a whole schedule by flows/inputs/scenarios.py; cross-row checks (unknown measure, two rows on
one measure, ...) are in transforms/scenario.py.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.engines import polars_engine as pe

from schemas.schedule import (
    COMPONENTS,
    CONFIDENCE,
    HEADING,
    IDENTIFIER,
    ORIGINS,
    PROGRAMS,
    SHAPES,
)
from transforms.scenario import OPERATIONS, SETTABLE_FIELDS
from transforms.schedule import BASES, CLAIM

CLEARABLE_FIELDS = ("valid_to", "heading_at_or_above_cap")
MEASURE_PATTERN = r"^[a-z*][a-z0-9_*]*$"
_FIELDS_SET = r"^(({f})( ({f}))*)?$".format(f="|".join(SETTABLE_FIELDS))
_ID_LIST = r"^([a-z][a-z0-9_]*( [a-z][a-z0-9_]*)*)?$"


def _fields_set() -> pl.Expr:
    return pl.col("fields_set").fill_null("").str.split(" ").list.eval(pl.element().filter(pl.element() != ""))


def _is_glob() -> pl.Expr:
    return pl.col("measure_id").str.contains("*", literal=True)


class ScenarioOverlay(pa.DataFrameModel):
    """One row per overlay operation (grain: `row`)."""

    row: pl.Int64 = pa.Field(ge=1, unique=True)
    operation: str = pa.Field(isin=list(OPERATIONS))
    measure_id: str = pa.Field(str_matches=MEASURE_PATTERN)
    effective_date: pl.Date
    fields_set: str = pa.Field(str_matches=_FIELDS_SET)
    note: str = pa.Field(nullable=True)
    program: str = pa.Field(nullable=True, isin=PROGRAMS)
    component: str = pa.Field(nullable=True, isin=COMPONENTS)
    layer: str = pa.Field(nullable=True, str_matches=IDENTIFIER)
    scope_id: str = pa.Field(nullable=True, str_matches=r"^(\*|[a-z][a-z0-9_]*)$")
    origin: str = pa.Field(nullable=True, isin=ORIGINS)
    valid_to: pl.Date = pa.Field(nullable=True)
    shape: str = pa.Field(nullable=True, isin=SHAPES)
    rate: pe.Decimal(38, 10) = pa.Field(nullable=True, ge=0, le=1)
    heading: str = pa.Field(nullable=True, str_matches=HEADING)
    heading_at_or_above_cap: str = pa.Field(nullable=True, str_matches=HEADING)
    excluded_by: str = pa.Field(nullable=True, str_matches=_ID_LIST)
    priority: pl.Int64 = pa.Field(nullable=True)
    confidence: str = pa.Field(nullable=True, isin=CONFIDENCE)
    confidence_note: str = pa.Field(nullable=True)
    legal_source: str = pa.Field(nullable=True, str_length={"min_value": 1})
    description: str = pa.Field(nullable=True, str_length={"min_value": 1})
    base: str = pa.Field(nullable=True, isin=list(BASES))
    condition: str = pa.Field(nullable=True, isin=["", CLAIM])

    class Config:
        strict = True
        ordered = True
        name = "scenario_overlay"

    @pa.check("measure_id", name="a glob (*) may only be used to end measures; other ids are plain identifiers")
    def glob_only_for_end(cls, data: pa.PolarsData) -> pl.LazyFrame:
        plain = pl.col("measure_id").str.contains(IDENTIFIER)
        return data.lazyframe.select(plain | (_is_glob() & (pl.col("operation") == "end")))

    @pa.check("fields_set", name="end sets no field; change sets at least one")
    def fields_match_operation(cls, data: pa.PolarsData) -> pl.LazyFrame:
        count = _fields_set().list.len()
        op = pl.col("operation")
        return data.lazyframe.select(
            pl.when(op == "end").then(count == 0).when(op == "change").then(count > 0).otherwise(True)
        )

    @pa.check("fields_set", name="only valid_to and heading_at_or_above_cap may be set empty")
    def only_clearable_fields_empty(cls, data: pa.PolarsData) -> pl.LazyFrame:
        cleared = pl.concat_list(
            [
                pl.when(_fields_set().list.contains(field) & pl.col(field).is_null()).then(pl.lit(field))
                for field in SETTABLE_FIELDS
            ]
        ).list.drop_nulls()
        return data.lazyframe.select(
            cleared.list.eval(pl.element().is_in(list(CLEARABLE_FIELDS)).not_()).list.any().not_()
        )

    @pa.check("valid_to", name="valid_to must be after effective_date")
    def valid_to_after_effective_date(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("effective_date")))


SCHEMA = ScenarioOverlay.to_schema()
