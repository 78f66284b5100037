"""`priced_lines` (the engine's exact path: round_components(compute_exact_components(...)))
gives each line's duty, headings and flags exactly as compute_line_duty does, also for lines
that carry the facts compute_line_duty reduces first (transport mode, export date, declared
headings): `quote` and the reconciliation's re-pricing rely on it. Checked on the embedded
sample (22 months of Japanese lines: claims, in-transit dates, metal content)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.inputs.customs import load_customs_lines
from transforms.duty import ENGINE_COLUMNS, LINE_DUTY_COLUMNS, compute_line_duty, priced_lines

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "customs_lines.parquet"


def test_priced_lines_equal_compute_line_duty_with_the_line_facts(schedule):
    stg = load_customs_lines(SAMPLE, None, schedule).stg
    lines = stg.select(c for c in ENGINE_COLUMNS if c in stg.columns)
    assert {"export_date", "transport_mode", "declared_headings"} <= set(lines.columns)
    assert lines.get_column("declared_headings").drop_nulls().len() > 0
    exact = priced_lines(lines, schedule)
    assert exact.get_column("_line_order").to_list() == list(range(lines.height))
    expected = compute_line_duty(lines, schedule).select(LINE_DUTY_COLUMNS)
    assert exact.select(LINE_DUTY_COLUMNS).equals(expected)
    assert exact.filter(pl.col("flags").str.contains("refused")).height > 0
