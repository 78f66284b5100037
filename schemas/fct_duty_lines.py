"""Contract of `fct_duty_lines`: one row per customs entry line (grain: entry_number,
line_number). Mirrors `sql/fct_duty_lines.sql`; checked on the collected frame before publish."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import common
from schemas.common import MONEY, duty
from transforms.vocabulary import RATE

GRAIN = ["entry_number", "line_number"]


SCHEMA = pa.DataFrameSchema(
    {
        "entry_number": common.entry_number(),
        "line_number": common.line_number(),
        "entry_date": pa.Column(pl.Date),
        "month": common.month(),
        "hts_code": common.hts_code(),
        "country_of_origin": common.country_of_origin(),
        "customs_value_usd": pa.Column(MONEY, pa.Check.ge(0)),
        "mfn_duty_usd": duty(),
        "section_232_duty_usd": duty(),
        "ieepa_duty_usd": duty(),
        "other_duty_usd": duty(),
        "total_duty_usd": duty(),
        "mpf_usd": duty(),
        "hmf_usd": duty(),
        "total_cost_usd": duty(),
        "effective_duty_rate": common.effective_rate(),
        "ch99_headings": pa.Column(pl.Utf8),
        "importer_id": pa.Column(pl.Utf8, nullable=True),
        "transport_mode": pa.Column(pl.Utf8, nullable=True),
        "port_code": pa.Column(pl.Utf8, nullable=True),
        "quantity": pa.Column(RATE, nullable=True),
        "quantity_unit": pa.Column(pl.Utf8, nullable=True),
        "mfn_rate_text": pa.Column(pl.Utf8, nullable=True),
        "declared_duty_usd": pa.Column(MONEY, nullable=True),
        "flags": pa.Column(pl.Utf8),
        "steel_content_value_usd": pa.Column(MONEY, pa.Check.ge(0), nullable=True),
        "aluminum_content_value_usd": pa.Column(MONEY, pa.Check.ge(0), nullable=True),
        "export_date": pa.Column(pl.Date, nullable=True),
        "declared_headings": pa.Column(pl.Utf8, nullable=True),
        "run_id": common.run_id(),
    },
    checks=[
        common.grain_is_unique(GRAIN),
        common.total_is_sum_of_components(),
        common.cost_is_duty_plus_fees(),
        pa.Check(common.month_of_entry_date, name="month_matches_entry_date"),
    ],
    strict=True,
    name="fct_duty_lines",
)
