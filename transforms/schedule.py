"""The tariff schedule as frames: MFN rates, chapter 99 measures, their HTS scopes and fees.

Pure data holder plus pure queries; reading files lives in `flows/inputs/schedule.py`.
Column meanings and dtypes are documented in docs/architecture.md ("The schedule").
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field, replace

import polars as pl

from transforms.vocabulary import RATE

# The measures table: column → dtype (docs/architecture.md, "The schedule").
MEASURE_COLUMNS: dict[str, pl.DataType] = {
    "measure_id": pl.Utf8,
    "program": pl.Utf8,
    "component": pl.Utf8,
    "layer": pl.Utf8,
    "scope_id": pl.Utf8,
    "origin": pl.Utf8,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "shape": pl.Utf8,
    "rate": RATE,
    "heading": pl.Utf8,
    "heading_at_or_above_cap": pl.Utf8,
    "excluded_by": pl.Utf8,
    "priority": pl.Int64,
    "confidence": pl.Utf8,
    "confidence_note": pl.Utf8,
    "legal_source": pl.Utf8,
    "description": pl.Utf8,
    # optional in the file (docs/architecture.md): the value the rate applies to, and whether
    # the measure applies only to lines that declare its heading
    "base": pl.Utf8,
    "condition": pl.Utf8,
}

# `base`: what a measure's rate multiplies. `value` the customs value; `non_metal_value` the
# customs value less the declared metal content charged under an applied metal measure;
# `steel_content` / `aluminum_content` the declared content (Section 232 derivatives: the
# measure applies only to products of the schedule's metal derivatives list for that metal).
BASES = ("value", "non_metal_value", "steel_content", "aluminum_content")
CONTENT_BASES = {"steel_content": "steel", "aluminum_content": "aluminum"}
DEFAULT_BASE = "value"
# `condition`: empty = by HTS, origin and date alone; `claim` = only when the line declares the
# measure's heading (or its cap heading) in `declared_headings`.
CLAIM = "claim"

ALL_SCOPES = "*"
ALL_ORIGINS = "*"

METAL_DERIVATIVE_COLUMNS = {
    "hts_prefix": pl.Utf8,
    "ch99_code": pl.Utf8,
    "metal": pl.Utf8,
    "effective_date": pl.Date,
}


# Exemptions: conditions under which named measures do not apply (docs/architecture.md).
EXEMPTION_COLUMNS: dict[str, pl.DataType] = {
    "exemption_id": pl.Utf8,
    "heading": pl.Utf8,
    "exempts": pl.Utf8,
    "scope_id": pl.Utf8,
    "origin": pl.Utf8,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "exported_before": pl.Date,
    "condition": pl.Utf8,
    "confidence": pl.Utf8,
    "confidence_note": pl.Utf8,
    "legal_source": pl.Utf8,
    "description": pl.Utf8,
}
# `condition` of an exemption: `hts` (the HTS scope, origin and entry date decide it), `claim`
# (also the line must declare `heading`), `in_transit` (also the line's `export_date` must be
# before `exported_before`).
EXEMPTION_CONDITIONS = ("hts", "claim", "in_transit")


def empty_exemptions() -> pl.DataFrame:
    """No exemptions (schedules that list none)."""
    return pl.DataFrame(schema=EXEMPTION_COLUMNS)


def empty_metal_derivatives() -> pl.DataFrame:
    """No Section 232 steel/aluminum derivative products (schedules that list none)."""
    return pl.DataFrame(schema=METAL_DERIVATIVE_COLUMNS)


@dataclass(frozen=True)
class Schedule:
    """An effective-dated tariff schedule (one version of the legal facts)."""

    version: str
    name: str
    source: str
    mfn: pl.DataFrame
    measures: pl.DataFrame
    scopes: pl.DataFrame
    fees: pl.DataFrame
    # Section 232 steel/aluminum derivative products: hts_prefix (digits), ch99_code,
    # metal (`steel` | `aluminum`), effective_date (null: the source list gives no date).
    metal_derivatives: pl.DataFrame = field(default_factory=empty_metal_derivatives)
    # exemptions from measures (Section 122 lists, in-transit rules, claims): EXEMPTION_COLUMNS
    exemptions: pl.DataFrame = field(default_factory=empty_exemptions)

    def with_measures(self, measures: pl.DataFrame, name: str | None = None) -> Schedule:
        """The same schedule with another measures table (scenario overlays use this)."""
        return replace(self, measures=measures, name=name or self.name)

    @property
    def unconfirmed_measures(self) -> pl.DataFrame:
        return self.measures.filter(pl.col("confidence") == "unconfirmed")

    @functools.cached_property
    def claimable_headings(self) -> list[str]:
        """Headings a line can claim: those of `claim` exemptions and `claim` measures (worked
        out once per schedule: the engine reads them in every pass; `with_measures` gives a
        new schedule, worked out afresh)."""
        measures = (
            self.measures.filter(pl.col("condition") == CLAIM)
            if "condition" in self.measures.columns
            else self.measures.head(0)
        )
        found = [
            *self.exemptions.filter(pl.col("condition") == CLAIM).get_column("heading").drop_nulls().to_list(),
            *measures.get_column("heading").to_list(),
            *measures.get_column("heading_at_or_above_cap").drop_nulls().to_list(),
        ]
        return sorted(set(found))

    @property
    def unconfirmed_fees(self) -> pl.DataFrame:
        return self.fees.filter(pl.col("confidence") == "unconfirmed")


def in_force_on(valid_from: pl.Expr, valid_to: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Half-open effective window: valid_from <= day < valid_to (null valid_to = open)."""
    return (valid_from <= day) & (valid_to.is_null() | (day < valid_to))


def measures_in_force(schedule: Schedule, day: dt.date) -> pl.DataFrame:
    """Every measure whose effective window contains `day`, in layer order."""
    return schedule.measures.filter(
        in_force_on(pl.col("valid_from"), pl.col("valid_to"), pl.lit(day))
    ).sort(["layer", "origin", "measure_id"])
