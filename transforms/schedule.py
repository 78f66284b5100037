"""The tariff schedule as frames: MFN rates, chapter 99 measures, their HTS scopes and fees.

Pure data holder plus pure queries; reading files lives in `flows/schedule_files.py`.
Column meanings and dtypes are documented in docs/architecture.md ("The schedule").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import polars as pl

RATE = pl.Decimal(38, 10)
MONEY = pl.Decimal(18, 2)

ALL_SCOPES = "*"
ALL_ORIGINS = "*"


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

    def with_measures(self, measures: pl.DataFrame, name: str | None = None) -> Schedule:
        """The same schedule with another measures table (scenario overlays use this)."""
        return replace(self, measures=measures, name=name or self.name)

    @property
    def unconfirmed_measures(self) -> pl.DataFrame:
        return self.measures.filter(pl.col("confidence") == "unconfirmed")

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
