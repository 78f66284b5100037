"""pandera contracts for a tariff schedule's files (see docs/architecture.md, "The schedule").

One model per file, validated on the typed, collected frames that `flows/inputs/schedule.py`
builds; checks that need two rows or two tables are plain audit functions at the bottom that
return the offending rows (empty frame = pass), each with `row`, the 1-based data row of the
file they come from.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
import pycountry
from pandera.engines import polars_engine as pe

from transforms.schedule import ALL_ORIGINS, ALL_SCOPES, BASES, CLAIM, CONTENT_BASES, EXEMPTION_CONDITIONS
from transforms.vocabulary import COMPONENTS

RateDecimal = pe.Decimal(38, 10)
MoneyDecimal = pe.Decimal(18, 2)

HEADING = r"^9903\.\d{2}\.\d{2}$"
IDENTIFIER = r"^[a-z][a-z0-9_]*$"
HTS_PREFIX = r"^\d{2,10}$"
PROGRAMS = ["section_232", "ieepa", "section_122", "section_301"]
SHAPES = ["additive", "inclusive_total"]
CONFIDENCE = ["confirmed", "unconfirmed"]
FEE_IDS = ["mpf", "hmf"]
TRANSPORT_MODES = ["vessel", "air", "truck", "rail", "mail", "other"]
METALS = ["steel", "aluminum", "copper"]
# USITC tariff database `mfn_rate_type_code` values (0 free, 7 ad valorem, 1/2 specific,
# 4/5 specific + ad valorem, 3/6 with an "other" rate, K/X/T: see the HTS text).
MFN_RATE_TYPE_CODES = ["0", "1", "2", "3", "4", "5", "6", "7", "K", "X", "T"]
ORIGINS = sorted({c.alpha_2 for c in pycountry.countries} | {ALL_ORIGINS})

_ID_LIST = r"^([a-z][a-z0-9_]*( [a-z][a-z0-9_]*)*)?$"
_MODES = r"^(\*|({m})( ({m}))*)$".format(m="|".join(TRANSPORT_MODES))


def _after_valid_from(column: str):
    def check(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col(column).is_null() | (pl.col(column) > pl.col("valid_from"))
        )

    return check


class MfnRates(pa.DataFrameModel):
    """Column 1 general (MFN) rates: one row per HTS8 subheading (grain: `hts8`).

    Rates are fractions (ad valorem) or USD per unit of quantity_1/quantity_2 (specific).
    """

    hts8: str = pa.Field(str_matches=r"^\d{8}$", unique=True)
    brief_description: str | None = pa.Field(nullable=True)  # may be absent
    mfn_text_rate: str
    mfn_rate_type_code: str = pa.Field(isin=MFN_RATE_TYPE_CODES)
    mfn_ad_val_rate: RateDecimal = pa.Field(ge=0)
    mfn_specific_rate: RateDecimal = pa.Field(ge=0)
    mfn_other_rate: RateDecimal = pa.Field(ge=0)
    quantity_1_code: str = pa.Field(nullable=True)
    quantity_2_code: str = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True

    @pa.check("mfn_rate_type_code", name="free (0) has all rates 0; ad valorem (7) has no specific or other rate")
    def rate_type_matches_rates(cls, data: pa.PolarsData) -> pl.LazyFrame:
        zero = pl.lit(0, dtype=pl.Decimal(38, 10))
        code = pl.col("mfn_rate_type_code")
        no_specific = (pl.col("mfn_specific_rate") == zero) & (pl.col("mfn_other_rate") == zero)
        return data.lazyframe.select(
            pl.when(code == "0").then(no_specific & (pl.col("mfn_ad_val_rate") == zero))
            .when(code == "7").then(no_specific)
            .otherwise(True)
        )


class Measures(pa.DataFrameModel):
    """Chapter 99 measures: one row per measure (grain: `measure_id`)."""

    measure_id: str = pa.Field(str_matches=IDENTIFIER, unique=True)
    program: str = pa.Field(isin=PROGRAMS)
    component: str = pa.Field(isin=COMPONENTS)
    layer: str = pa.Field(str_matches=IDENTIFIER)
    scope_id: str = pa.Field(str_matches=r"^(\*|[a-z][a-z0-9_]*)$")
    origin: str = pa.Field(isin=ORIGINS)
    valid_from: pl.Date
    valid_to: pl.Date = pa.Field(nullable=True)
    shape: str = pa.Field(isin=SHAPES)
    rate: RateDecimal = pa.Field(ge=0, le=1)
    heading: str = pa.Field(str_matches=HEADING)
    heading_at_or_above_cap: str = pa.Field(nullable=True, str_matches=HEADING)
    excluded_by: str = pa.Field(str_matches=_ID_LIST)
    priority: pl.Int64
    confidence: str = pa.Field(isin=CONFIDENCE)
    confidence_note: str
    legal_source: str = pa.Field(str_length={"min_value": 1})
    description: str = pa.Field(str_length={"min_value": 1})
    base: str = pa.Field(isin=list(BASES), nullable=True)  # null: `value`
    condition: str = pa.Field(isin=["", CLAIM], nullable=True)  # null / "": no condition

    class Config:
        strict = True
        ordered = True

    @pa.check("valid_to", name="valid_to must be after valid_from (the window is [valid_from, valid_to))")
    def valid_to_after_from(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _after_valid_from("valid_to")(data)

    @pa.check("scope_id", name="a measure on metal content (base steel_content/aluminum_content) must have scope `*`: "
              "the metal derivatives list is its scope")
    def content_measures_scope_all(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            ~pl.col("base").is_in(list(CONTENT_BASES)).fill_null(False) | (pl.col("scope_id") == ALL_SCOPES)
        )

    @pa.check("heading_at_or_above_cap",
              name="inclusive_total needs heading_at_or_above_cap; additive must leave it empty")
    def cap_heading_matches_shape(cls, data: pa.PolarsData) -> pl.LazyFrame:
        inclusive = pl.col("shape") == "inclusive_total"
        has_cap = pl.col("heading_at_or_above_cap").is_not_null()
        return data.lazyframe.select(inclusive == has_cap)

    @pa.check("confidence_note", name="an unconfirmed measure must say why in confidence_note")
    def unconfirmed_has_note(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("confidence") == "confirmed") | (pl.col("confidence_note").str.len_chars() > 0)
        )


class Scopes(pa.DataFrameModel):
    """HTS scopes of measures: one row per (`scope_id`, `hts_prefix`)."""

    scope_id: str = pa.Field(str_matches=IDENTIFIER)
    hts_prefix: str = pa.Field(str_matches=HTS_PREFIX)
    source: str = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True
        ordered = True
        unique = ["scope_id", "hts_prefix"]


class Fees(pa.DataFrameModel):
    """Entry-level fees: one row per (`fee_id`, `valid_from`)."""

    fee_id: str = pa.Field(isin=FEE_IDS)
    valid_from: pl.Date
    valid_to: pl.Date = pa.Field(nullable=True)
    rate: RateDecimal = pa.Field(ge=0, le=1)
    min_usd: MoneyDecimal = pa.Field(nullable=True, ge=0)
    max_usd: MoneyDecimal = pa.Field(nullable=True, ge=0)
    transport_modes: str = pa.Field(str_matches=_MODES)
    confidence: str = pa.Field(isin=CONFIDENCE)
    confidence_note: str
    legal_source: str = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True
        ordered = True
        unique = ["fee_id", "valid_from"]

    @pa.check("valid_to", name="valid_to must be after valid_from (the window is [valid_from, valid_to))")
    def valid_to_after_from(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _after_valid_from("valid_to")(data)

    @pa.check("max_usd", name="max_usd must not be below min_usd")
    def max_not_below_min(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("max_usd").is_null() | pl.col("min_usd").is_null()
            | (pl.col("max_usd") >= pl.col("min_usd"))
        )

    @pa.check("confidence_note", name="an unconfirmed fee must say why in confidence_note")
    def unconfirmed_has_note(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("confidence") == "confirmed") | (pl.col("confidence_note").str.len_chars() > 0)
        )


class MetalDerivatives(pa.DataFrameModel):
    """Section 232 steel/aluminum derivative products: one row per (`hts_prefix`, `metal`).

    `effective_date` null: the source list gives no date for the row.
    """

    hts_prefix: str = pa.Field(str_matches=HTS_PREFIX)
    ch99_code: str = pa.Field(str_matches=HEADING)
    metal: str = pa.Field(isin=METALS)
    effective_date: pl.Date = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True
        unique = ["hts_prefix", "metal"]


class Exemptions(pa.DataFrameModel):
    """Exemptions from measures: one row per exemption (grain: `exemption_id`). A line in the
    exemption's scope, origin and entry-date window that meets its `condition` is priced as
    if the measures in `exempts` did not exist (another measure of their layer may apply)."""

    exemption_id: str = pa.Field(str_matches=IDENTIFIER, unique=True)
    heading: str = pa.Field(nullable=True, str_matches=HEADING)
    exempts: str = pa.Field(str_matches=r"^[a-z][a-z0-9_]*( [a-z][a-z0-9_]*)*$")
    scope_id: str = pa.Field(str_matches=r"^(\*|[a-z][a-z0-9_]*)$")
    origin: str = pa.Field(isin=ORIGINS)
    valid_from: pl.Date
    valid_to: pl.Date = pa.Field(nullable=True)
    exported_before: pl.Date = pa.Field(nullable=True)
    condition: str = pa.Field(isin=list(EXEMPTION_CONDITIONS))
    confidence: str = pa.Field(isin=CONFIDENCE)
    confidence_note: str
    legal_source: str = pa.Field(str_length={"min_value": 1})
    description: str = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True
        ordered = True

    @pa.check("valid_to", name="valid_to must be after valid_from (the window is [valid_from, valid_to))")
    def valid_to_after_from(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _after_valid_from("valid_to")(data)

    @pa.check("exported_before", name="an in_transit exemption needs exported_before; the others leave it empty")
    def exported_before_matches_condition(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("condition") == "in_transit") == pl.col("exported_before").is_not_null()
        )

    @pa.check("heading", name="a claim exemption needs the heading the line must declare")
    def claim_has_heading(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("condition") != CLAIM) | pl.col("heading").is_not_null())

    @pa.check("confidence_note", name="an unconfirmed exemption must say why in confidence_note")
    def unconfirmed_has_note(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("confidence") == "confirmed") | (pl.col("confidence_note").str.len_chars() > 0)
        )


# --- Audits across rows and tables: each returns the offending rows (empty = pass). ---------


def _numbered(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64))


def _windows_overlap(suffix: str = "_other") -> pl.Expr:
    """Half-open windows [valid_from, valid_to) of a row and its joined partner intersect
    (null valid_to = open-ended)."""
    to_a = pl.col("valid_to").fill_null(pl.date(9999, 12, 31))
    to_b = pl.col(f"valid_to{suffix}").fill_null(pl.date(9999, 12, 31))
    return (pl.col("valid_from") < to_b) & (pl.col(f"valid_from{suffix}") < to_a)


def measures_with_unknown_scope(measures: pl.DataFrame, scopes: pl.DataFrame) -> pl.DataFrame:
    """Measures whose `scope_id` is neither `*` nor a scope of the scopes file."""
    known = scopes.get_column("scope_id").unique()
    return _numbered(measures).filter(
        (pl.col("scope_id") != ALL_SCOPES) & ~pl.col("scope_id").is_in(known.implode())
    ).select("row", "measure_id", "scope_id")


def exemptions_with_unknown_scope(exemptions: pl.DataFrame, scopes: pl.DataFrame) -> pl.DataFrame:
    """Exemptions whose `scope_id` is neither `*` nor a scope of the scopes file."""
    known = scopes.get_column("scope_id").unique()
    return _numbered(exemptions).filter(
        (pl.col("scope_id") != ALL_SCOPES) & ~pl.col("scope_id").is_in(known.implode())
    ).select("row", "exemption_id", "scope_id")


def exemptions_with_unknown_measure(exemptions: pl.DataFrame, measures: pl.DataFrame) -> pl.DataFrame:
    """(row, exemption_id, exempted) where `exempted` in `exempts` is no measure_id."""
    ids = measures.get_column("measure_id")
    return (
        _numbered(exemptions)
        .select("row", "exemption_id", exempted=pl.col("exempts").str.split(" "))
        .explode("exempted")
        .filter(~pl.col("exempted").is_in(ids.implode()))
        .sort("row", "exempted")
    )


def measures_with_unknown_exclusion(measures: pl.DataFrame) -> pl.DataFrame:
    """(row, measure_id, excluded) where `excluded` in `excluded_by` is no measure_id, or is
    the measure itself."""
    ids = measures.get_column("measure_id")
    return (
        _numbered(measures)
        .select("row", "measure_id", excluded=pl.col("excluded_by").str.split(" "))
        .explode("excluded")
        .filter(pl.col("excluded") != "")
        .filter(~pl.col("excluded").is_in(ids.implode()) | (pl.col("excluded") == pl.col("measure_id")))
        .sort("row", "excluded")
    )


def ambiguous_measures(measures: pl.DataFrame, scopes: pl.DataFrame) -> pl.DataFrame:
    """Pairs of measures the selection rule cannot order: same layer, same origin, same
    priority, the same HTS prefix (or both scope `*`) and overlapping effective windows.

    Columns: row, measure_id, row_other, measure_id_other, hts_prefix, layer.
    """
    prefixes = pl.concat(
        [scopes.select("scope_id", "hts_prefix"),
         pl.DataFrame({"scope_id": [ALL_SCOPES], "hts_prefix": [""]})]
    )
    keyed = _numbered(measures).join(prefixes, on="scope_id", how="inner").select(
        "row", "measure_id", "layer", "origin", "priority", "hts_prefix", "valid_from", "valid_to"
    )
    return (
        keyed.join(keyed, on=["layer", "origin", "priority", "hts_prefix"], suffix="_other")
        .filter(pl.col("row") < pl.col("row_other"))
        .filter(_windows_overlap())
        .select("row", "measure_id", "row_other", "measure_id_other", "hts_prefix", "layer")
        .unique()
        .sort("row", "row_other", "hts_prefix")
    )


def overlapping_fees(fees: pl.DataFrame) -> pl.DataFrame:
    """Pairs of rows of one fee whose windows overlap for a common transport mode.

    Columns: row, fee_id, row_other, valid_from, valid_from_other.
    """
    numbered = _numbered(fees).with_columns(modes=pl.col("transport_modes").str.split(" "))
    pairs = numbered.join(numbered, on="fee_id", suffix="_other").filter(
        pl.col("row") < pl.col("row_other")
    )
    share_mode = (
        pl.col("modes").list.contains("*")
        | pl.col("modes_other").list.contains("*")
        | (pl.col("modes").list.set_intersection(pl.col("modes_other")).list.len() > 0)
    )
    return (
        pairs.filter(_windows_overlap() & share_mode)
        .select("row", "fee_id", "row_other", "valid_from", "valid_from_other")
        .sort("row", "row_other")
    )
