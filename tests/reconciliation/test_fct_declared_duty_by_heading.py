"""Golden rows for fct_declared_duty_by_heading, hand-computed under the Japan-shaped schedule
of tests/reconciliation/recon_schedule.py: each line's declared duty split by heading beside
the computed duty of the same heading, and the cause of every difference."""

from decimal import Decimal
from pathlib import Path

import polars as pl

from flows.inputs.customs import load_customs_lines
from schemas.fct_declared_duty_by_heading import SCHEMA
from tests.reconciliation.recon_schedule import CAR, MOTORCYCLE, SCHEDULE, stg_lines
from transforms.duty import ENGINE_COLUMNS, line_components
from transforms.fct_declared_duty_by_heading import (
    build_fct_declared_duty_by_heading,
    computed_by_heading,
    layers_share_headings,
)
from transforms.fct_duty_lines import build_fct_duty_lines

D = Decimal
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "customs_lines.parquet"


def with_headings(stg: pl.DataFrame, headings: list[str | None], duties: list[str | None]) -> pl.DataFrame:
    return stg.with_columns(
        declared_headings=pl.Series(headings, dtype=pl.Utf8),
        declared_heading_duties_usd=pl.Series(duties, dtype=pl.Utf8),
    )


def build(stg: pl.DataFrame) -> pl.DataFrame:
    lines = build_fct_duty_lines(stg.drop("declared_headings", "declared_heading_duties_usd", strict=False), SCHEDULE)
    return SCHEMA.validate(build_fct_declared_duty_by_heading(stg, lines, SCHEDULE))


def rows(frame: pl.DataFrame) -> list[tuple]:
    return frame.select("entry_number", "line_number", "heading", "program", "declared_duty_usd",
                        "computed_duty_usd", "difference_usd", "cause").rows()


def golden_stg() -> pl.DataFrame:
    return with_headings(
        stg_lines(
            # Japan deal car 2025-10-15, $30,000.00: MFN 2.5% = 750.00; 9903.94.41 15% total
            # = 4,500.00 - 750.00 = 3,750.00 (its companion 9903.94.40 applies only when MFN is
            # at or above 15%; declared at 0.00 it reads as a heading without duty of its own):
            # 750.00 + 3,750.00 + 0.00 = 4,500.00
            ("JPN00000011", 1, "2025-10-15", CAR, "30000.00", "4500.00", "IMP1"),
            # same car declared under the superseded +25% heading 9903.94.01: 750.00 + 7,500.00
            # = 8,250.00 -> 9903.94.01 heading_not_computed (-7,500.00), 9903.94.41
            # heading_not_declared (+3,750.00), MFN match; difference 4,500.00 - 8,250.00
            ("JPN00000029", 1, "2025-10-15", CAR, "30000.00", "8250.00", "IMP1"),
            # motorcycle 2025-09-01, $10,000.00: MFN 2.4% = 240.00; Japan reciprocal 15% total
            # 1,500.00 - 240.00 = 1,260.00 (9903.02.73); declared 1,200.00 under it -> +60.00
            # amount_differs; MFN 1,440.00 - 1,200.00 = 240.00 match
            ("JPN00000037", 1, "2025-09-01", MOTORCYCLE, "10000.00", "1440.00", "IMP2"),
            # no declared duty: not covered
            ("JPN00000045", 1, "2025-09-01", MOTORCYCLE, "10000.00", None, "IMP2"),
        ),
        ["9903.94.41;9903.94.40", "9903.94.01", "9903.02.73", None],
        ["3750.00;0.00", "7500.00", "1200.00", None],
    )


def test_declared_and_computed_by_heading_with_causes():
    got = build(golden_stg())
    assert rows(got) == [
        ("JPN00000011", 1, "9903.94.40", "section_232", D("0.00"), D("0.00"), D("0.00"), "no_duty_heading"),
        ("JPN00000011", 1, "9903.94.41", "section_232", D("3750.00"), D("3750.00"), D("0.00"), "match"),
        ("JPN00000011", 1, "MFN", "mfn", D("750.00"), D("750.00"), D("0.00"), "match"),
        ("JPN00000029", 1, "9903.94.01", "section_232", D("7500.00"), D("0.00"), D("-7500.00"), "heading_not_computed"),
        ("JPN00000029", 1, "9903.94.41", "section_232", None, D("3750.00"), D("3750.00"), "heading_not_declared"),
        ("JPN00000029", 1, "MFN", "mfn", D("750.00"), D("750.00"), D("0.00"), "match"),
        ("JPN00000037", 1, "9903.02.73", "ieepa", D("1200.00"), D("1260.00"), D("60.00"), "amount_differs"),
        ("JPN00000037", 1, "MFN", "mfn", D("240.00"), D("240.00"), D("0.00"), "match"),
    ]
    # per line: declared sums to the declared duty, computed to total_duty_usd
    per_line = got.group_by("entry_number").agg(pl.col("declared_duty_usd").sum(), pl.col("computed_duty_usd").sum())
    assert sorted(per_line.rows()) == [
        ("JPN00000011", D("4500.00"), D("4500.00")),
        ("JPN00000029", D("8250.00"), D("4500.00")),
        ("JPN00000037", D("1440.00"), D("1500.00")),
    ]


def test_computed_by_heading_gives_line_components_rows(schedule):
    # the computed side comes from one pass of the line engine (compute_line_duty's layer
    # detail); it must give, line by line, the rows of the exact path (line_components) grouped
    # by heading: on the embedded sample's 22 months (claims, refused claims, in-transit dates,
    # metal content declared and not) under the shipped schedule
    stg = load_customs_lines(SAMPLE, None, schedule).stg
    engine = stg.select("entry_number", "line_number", *[c for c in ENGINE_COLUMNS if c in stg.columns])
    expected = (
        line_components(engine, schedule, keep=["entry_number", "line_number"])
        .group_by("entry_number", "line_number", "heading")
        .agg(program=pl.col("program").first(), computed_duty_usd=pl.col("duty_usd").sum())
    )
    got = computed_by_heading(engine, schedule)
    key = ["entry_number", "line_number", "heading"]
    assert got.sort(key).equals(expected.select(got.columns).sort(key))
    # the sample exercises what the detail must get right: several layers, zero-duty headings
    assert got.get_column("heading").n_unique() > 5
    assert got.filter(pl.col("computed_duty_usd") == 0, pl.col("heading") != "MFN").height > 0


def test_headings_declared_without_amounts():
    # declared headings but no per-heading amounts: MFN and the heading carry no declared
    # amount (the line's 4,500.00 cannot be split), causes say so
    stg = with_headings(
        stg_lines(("JPN00000011", 1, "2025-10-15", CAR, "30000.00", "4500.00", "IMP1")),
        ["9903.94.41"], [None],
    )
    assert [(r[2], r[4], r[7]) for r in rows(build(stg))] == [
        ("9903.94.41", None, "amount_not_declared"),
        ("MFN", None, "amount_not_declared"),
    ]


def test_an_input_without_declared_headings_gives_no_rows():
    stg = stg_lines(("JPN00000011", 1, "2025-10-15", CAR, "30000.00", "4500.00", "IMP1"))
    got = build(stg)
    assert got.height == 0
    assert got.columns == [c for c in SCHEMA.columns if c != "run_id"]  # run_id: added when published


def test_staged_lines_in_another_order_or_beyond_the_published_ones_give_the_same_rows():
    # the mart picks the staged lines of the published ones by position when both frames hold
    # the same lines in the same order (the pipeline's case), else by joining on the line: the
    # rows must not depend on which
    stg = golden_stg()
    published = build_fct_duty_lines(stg.drop("declared_headings", "declared_heading_duties_usd"), SCHEDULE)
    expected = rows(build_fct_declared_duty_by_heading(stg, published, SCHEDULE))
    assert rows(build_fct_declared_duty_by_heading(stg.reverse(), published, SCHEDULE)) == expected
    # a staged line that was not published (and one published line fewer) changes nothing else
    extra = stg.head(1).with_columns(entry_number=pl.lit("JPN00000099"))
    assert rows(build_fct_declared_duty_by_heading(pl.concat([extra, stg]), published, SCHEDULE)) == expected
    without_first = published.filter(pl.col("entry_number") != "JPN00000011")
    assert rows(build_fct_declared_duty_by_heading(stg, without_first, SCHEDULE)) == [
        r for r in expected if r[0] != "JPN00000011"
    ]


def test_a_heading_two_layers_apply_is_one_row_with_their_duties_summed(schedule):
    # every measure of the shipped schedule under the heading `MFN`: a line that pays MFN and a
    # layer carries that heading twice, and computed_by_heading must sum it into one row (the
    # shipped schedule's layers never share a heading: each line has each heading once, and
    # its rows are not grouped)
    assert not layers_share_headings(schedule)
    one = pl.lit("MFN")
    shared = schedule.with_measures(schedule.measures.with_columns(
        heading=one, heading_at_or_above_cap=pl.when(pl.col("heading_at_or_above_cap").is_not_null()).then(one)
    ))
    assert layers_share_headings(shared)
    stg = load_customs_lines(SAMPLE, None, shared).stg
    engine = stg.select("entry_number", "line_number", *[c for c in ENGINE_COLUMNS if c in stg.columns])
    components = line_components(engine, shared, keep=["entry_number", "line_number"])
    key = ["entry_number", "line_number", "heading"]
    expected = components.group_by(key).agg(program=pl.col("program").first(), computed_duty_usd=pl.col("duty_usd").sum())
    assert expected.height < components.height  # some lines pay MFN and a layer
    got = computed_by_heading(engine, shared)
    assert got.sort(key).equals(expected.select(got.columns).sort(key))
