"""Several schedules priced in one engine pass (transforms/duty.py `variant_schedule`, the
reconciliation's misread schedules): each line numbered with a variant gets exactly what
compute_line_duty gives it under that variant's measures alone, layer detail included.

On the embedded sample's lines (22 months of Japanese lines: cars, parts, metals, claims,
in-transit rules) under four measures tables: one without any Section 232 measure (the first
layer: its headings must still come first where another variant applies one), the shipped
one, one with the Section 122 measure left out and the IEEPA measures' rates and shapes
changed, and one without the Japan deal measure of Section 232."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from flows.inputs.customs import load_customs_lines
from transforms.duty import ENGINE_COLUMNS, LINE_DUTY_COLUMNS, VARIANT, compute_line_duty, layers, variant_schedule

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "customs_lines.parquet"


def _variants(schedule) -> list[pl.DataFrame]:
    measures = schedule.measures
    is_ieepa = pl.col("layer") == "ieepa"
    japan_deal = measures.filter(
        (pl.col("layer") == "s232") & (pl.col("origin") == "JP") & (pl.col("shape") == "inclusive_total")
    ).get_column("measure_id")
    assert japan_deal.len() > 0 and measures.filter(is_ieepa).height > 1
    return [
        measures.filter(pl.col("layer") != "s232"),
        measures,
        measures.filter(pl.col("layer") != "s122").with_columns(
            rate=pl.when(is_ieepa).then(pl.col("rate") + Decimal("0.05")).otherwise(pl.col("rate")),
            shape=pl.when(is_ieepa & (pl.col("shape") == "inclusive_total"))
            .then(pl.lit("additive"))
            .otherwise(pl.col("shape")),
        ),
        measures.filter(pl.col("measure_id") != japan_deal.first()),
    ]


@pytest.fixture(scope="module")
def sample_engine_lines(schedule) -> pl.DataFrame:
    stg = load_customs_lines(SAMPLE, None, schedule).stg
    return stg.select(c for c in ENGINE_COLUMNS if c in stg.columns)


def _detail(layer_names: list[str]) -> list[str]:
    return [f"{layer}__{part}" for layer in layer_names for part in ("duty_usd", "applied_heading", "measure_id")]


def test_each_variant_priced_as_under_its_measures_alone(sample_engine_lines, schedule):
    variants = _variants(schedule)
    # each variant prices its own slice of the lines (overlapping: a line may be in two)
    step = sample_engine_lines.height // (len(variants) + 1)
    parts = [sample_engine_lines.slice(i * step, 2 * step) for i in range(len(variants))]
    stacked = pl.concat(part.with_columns(pl.lit(i, pl.UInt32).alias(VARIANT)) for i, part in enumerate(parts))
    together = compute_line_duty(stacked, variant_schedule(schedule, variants), layer_detail=True)
    assert together.height == stacked.height
    assert together.select(stacked.columns).equals(stacked)

    start = 0
    for part, measures in zip(parts, variants, strict=True):
        alone = compute_line_duty(part, schedule.with_measures(measures), layer_detail=True)
        mine = together.slice(start, part.height)
        start += part.height
        assert mine.select(LINE_DUTY_COLUMNS).equals(alone.select(LINE_DUTY_COLUMNS))
        own = [layer for layer in layers(schedule) if f"{layer}__measure_id" in alone.columns]
        assert mine.select(_detail(own)).equals(alone.select(_detail(own)))
        # a layer only another variant has a measure of: nothing for these lines
        others = [layer for layer in layers(schedule) if f"{layer}__measure_id" in together.columns and layer not in own]
        for layer in others:
            assert mine.get_column(f"{layer}__measure_id").null_count() == part.height
            assert mine.get_column(f"{layer}__applied_heading").null_count() == part.height
            assert (mine.get_column(f"{layer}__duty_usd") == 0).all()


def test_the_variants_differ_where_their_measures_do(sample_engine_lines, schedule):
    # (else the comparison above could pass with every variant priced under one schedule)
    variants = _variants(schedule)
    stacked = pl.concat(
        sample_engine_lines.with_columns(pl.lit(i, pl.UInt32).alias(VARIANT)) for i in range(len(variants))
    )
    together = compute_line_duty(stacked, variant_schedule(schedule, variants))
    totals = [
        together.filter(pl.col(VARIANT) == i).get_column("total_duty_usd").sum() for i in range(len(variants))
    ]
    assert len(set(totals)) == len(variants)
    assert totals[1] == compute_line_duty(sample_engine_lines, schedule).get_column("total_duty_usd").sum()
    # without Section 232 no line lists a 232 heading first: the shipped headings start 9903.94
    headings = together.filter(pl.col(VARIANT) == 0).get_column("ch99_headings")
    assert not headings.str.contains("9903.94").any()
    assert together.filter(pl.col(VARIANT) == 1).get_column("ch99_headings").str.starts_with("9903.94").any()
