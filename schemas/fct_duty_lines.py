"""Contract of `fct_duty_lines`: one row per customs entry line (grain: entry_number,
line_number). Mirrors `sql/fct_duty_lines.sql`; checked on the collected frame before publish."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

MONEY = pl.Decimal(18, 2)
RATE = pl.Decimal(38, 10)
EFFECTIVE_RATE = pl.Decimal(18, 6)

GRAIN = ["entry_number", "line_number"]
COMPONENTS = ["mfn_duty_usd", "section_232_duty_usd", "ieepa_duty_usd", "other_duty_usd"]


def _money(nullable: bool = False) -> pa.Column:
    return pa.Column(MONEY, nullable=nullable)


def _duty() -> pa.Column:
    return pa.Column(MONEY, pa.Check.ge(0))


def _total_is_sum_of_components(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col("total_duty_usd") == pl.sum_horizontal(COMPONENTS))


def _cost_is_duty_plus_fees(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        pl.col("total_cost_usd") == pl.sum_horizontal("total_duty_usd", "mpf_usd", "hmf_usd")
    )


def _month_matches_entry_date(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col("month") == pl.col("entry_date").dt.strftime("%Y-%m"))


SCHEMA = pa.DataFrameSchema(
    {
        "entry_number": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[A-Z0-9]{3}[0-9]{8}$")),
        "line_number": pa.Column(pl.Int64, pa.Check.ge(1)),
        "entry_date": pa.Column(pl.Date),
        "month": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[0-9]{4}-(0[1-9]|1[0-2])$")),
        "hts_code": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[0-9]{10}$")),
        "country_of_origin": pa.Column(pl.Utf8, pa.Check.str_matches(r"^[A-Z]{2}$")),
        "customs_value_usd": pa.Column(MONEY, pa.Check.ge(0)),
        "mfn_duty_usd": _duty(),
        "section_232_duty_usd": _duty(),
        "ieepa_duty_usd": _duty(),
        "other_duty_usd": _duty(),
        "total_duty_usd": _duty(),
        "mpf_usd": _duty(),
        "hmf_usd": _duty(),
        "total_cost_usd": _duty(),
        "effective_duty_rate": pa.Column(EFFECTIVE_RATE, pa.Check.ge(0), nullable=True),
        "ch99_headings": pa.Column(pl.Utf8),
        "importer_id": pa.Column(pl.Utf8, nullable=True),
        "transport_mode": pa.Column(pl.Utf8, nullable=True),
        "port_code": pa.Column(pl.Utf8, nullable=True),
        "quantity": pa.Column(RATE, nullable=True),
        "quantity_unit": pa.Column(pl.Utf8, nullable=True),
        "mfn_rate_text": pa.Column(pl.Utf8, nullable=True),
        "declared_duty_usd": _money(nullable=True),
        "flags": pa.Column(pl.Utf8),
    },
    checks=[
        pa.Check(_total_is_sum_of_components, name="total_duty_is_sum_of_components"),
        pa.Check(_cost_is_duty_plus_fees, name="total_cost_is_duty_plus_fees"),
        pa.Check(_month_matches_entry_date, name="month_matches_entry_date"),
    ],
    unique=GRAIN,
    strict=True,
    name="fct_duty_lines",
)
