"""`priced_lines` (the engine's exact path: round_components(compute_exact_components(...)))
gives each line's duty, headings and flags exactly as compute_line_duty does, also for lines
that carry the facts compute_line_duty reduces first (transport mode, export date, declared
headings): `quote` and the reconciliation's re-pricing rely on it. Checked on the embedded
sample (22 months of Japanese lines: claims, in-transit dates, metal content)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.inputs.customs import load_customs_lines
from transforms.duty import ENGINE_COLUMNS, LINE_DUTY_COLUMNS, compute_line_duty, layers, priced_lines

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


def test_layer_detail_names_each_layer_as_priced_lines_does(schedule):
    # compute_line_duty's layer detail (the declared-by-heading mart, the reconciliation's
    # successor readings) gives, per layer some line has a measure of, the measure, the applied
    # heading and the rounded amount of the exact path; the other layers apply to no line
    stg = load_customs_lines(SAMPLE, None, schedule).stg
    lines = stg.select(c for c in ENGINE_COLUMNS if c in stg.columns)
    exact = priced_lines(lines, schedule)
    detail = compute_line_duty(lines, schedule, layer_detail=True)
    assert detail.select(LINE_DUTY_COLUMNS).equals(exact.select(LINE_DUTY_COLUMNS))
    active = [c.removesuffix("__measure_id") for c in detail.columns if c.endswith("__measure_id")]
    assert len(active) >= 3
    for layer in layers(schedule):
        fields = [f"{layer}__measure_id", f"{layer}__applied_heading", f"{layer}__duty_usd"]
        if layer in active:
            assert detail.select(fields).equals(exact.select(fields)), layer
        else:
            assert exact.get_column(f"{layer}__measure_id").null_count() == lines.height, layer
    # the metal layers name their measure also on lines without the content it reads
    assert detail.filter(
        pl.any_horizontal(pl.col(f"{layer}__measure_id").is_not_null() & pl.col(f"{layer}__applied_heading").is_null()
                          for layer in active)
    ).height > 0
