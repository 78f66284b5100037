"""The report's "rules decided by the lines' own facts" table (sql/report_line_facts.sql) on
`make run`'s backfill of the sample: every fact's line count and sums equal the same facts
worked out here in Polars from the month's published lines, for every month."""

from __future__ import annotations

import datetime as dt

import polars as pl

from flows.present.report import read_report_data
from flows.warehouse.reader import connect

FACTS = {
    "export date declared": pl.col("export_date").is_not_null(),
    "in-transit exemption applied (9903.01.28, 9903.03.02, or the earlier 10% rate)": (
        pl.col("export_date").is_not_null()
        & (pl.col("transport_mode") == "vessel")
        & (
            pl.col("ch99_headings").str.contains("9903.01.28", literal=True)
            | pl.col("ch99_headings").str.contains("9903.03.02", literal=True)
            | (
                (pl.col("export_date") < dt.date(2025, 8, 7))
                & pl.col("entry_date").is_between(dt.date(2025, 8, 7), dt.date(2025, 10, 5), closed="left")
                & pl.col("ch99_headings").str.contains("9903.01.25", literal=True)
            )
        )
    ),
    "in-transit rule may apply: export date not declared (flagged)": pl.col("flags").str.contains(
        "in-transit rule.*may apply"
    ),
    "metal content declared": pl.col("steel_content_value_usd").is_not_null()
    | pl.col("aluminum_content_value_usd").is_not_null(),
    "metal derivative without declared content (flagged)": pl.col("flags").str.contains(
        "metal content not declared", literal=True
    ),
    "Section 122 exempt by list (9903.03.03)": pl.col("ch99_headings").str.contains("9903.03.03", literal=True),
    "chapter 99 headings declared": pl.col("declared_headings").is_not_null(),
    "claim refused (priced without it, flagged)": pl.col("flags").str.contains("claim .* refused"),
}


def _expected(lines: pl.DataFrame) -> list[tuple]:
    rows = []
    for fact, holds in FACTS.items():
        chosen = lines.filter(holds.fill_null(False))
        if chosen.height:
            rows.append((fact, chosen.height, chosen["customs_value_usd"].sum(), chosen["total_duty_usd"].sum()))
    return rows


def test_line_facts_equal_the_published_lines_every_month(sample_backfill, schedule):
    with connect(sample_backfill.db) as con:
        lines = con.sql("SELECT * FROM fct_duty_lines").pl()
    months = sorted(lines.get_column("month").unique().to_list())
    seen = set()
    for month in months:
        facts = read_report_data(sample_backfill.db, month, schedule).line_facts
        got = [(r["fact"], r["line_count"], r["customs_value_usd"], r["total_duty_usd"]) for r in facts.iter_rows(named=True)]
        expected = _expected(lines.filter(pl.col("month") == month))
        assert got == expected, month
        seen |= {row[0] for row in got}
    # the sample exercises most facts (a fact never seen would be checked only by its absence)
    assert len(seen) >= 5, seen
