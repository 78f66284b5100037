"""transforms/scenario.py: add / end / change overlays on a tiny schedule (golden measures
tables), exclusions following splits and removals, precise errors, and a property: ending
every measure at D leaves the duty unchanged before D and MFN-only from D."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.tiny_schedule import lines, measure, tiny_schedule
from tests.scenarios.overlay_rows import overlay
from transforms.duty import compute_line_duty
from transforms.scenario import ScenarioError, apply_overlay

D = dt.date.fromisoformat


@pytest.fixture
def base():
    return tiny_schedule(
        [
            measure("autos", "s232", "cars", "2025-04-03", "0.25", heading="9903.94.01"),
            measure("autos_jp", "s232", "cars", "2025-09-16", "0.15", origin="JP", shape="inclusive_total",
                    heading="9903.94.41", cap_heading="9903.94.40"),
            measure("recip", "ieepa", "*", "2025-04-05", "0.10", valid_to="2026-02-24", heading="9903.01.25",
                    excluded_by="autos autos_jp", component="ieepa", program="ieepa"),
        ],
        scopes={"cars": ["870323"]},
        mfn={"87032301": ("2.5%", "7", "0.025", "0"), "87114060": ("2.4%", "7", "0.024", "0")},
    )


def windows(schedule) -> list[tuple]:
    return schedule.measures.select("measure_id", "valid_from", "valid_to", "excluded_by").rows()


def test_end_in_the_middle_cuts_the_window(base):
    result = apply_overlay(base, overlay({"operation": "end", "measure_id": "recip", "effective_date": "2025-06-01"}), "x")
    assert windows(result) == [
        ("autos", D("2025-04-03"), None, ""),
        ("autos_jp", D("2025-09-16"), None, ""),
        ("recip", D("2025-04-05"), D("2025-06-01"), "autos autos_jp"),
    ]
    assert result.name == "x" and base.name == "tiny"


def test_end_at_the_start_removes_the_measure_and_its_mentions(base):
    result = apply_overlay(base, overlay({"operation": "end", "measure_id": "autos_jp", "effective_date": "2025-09-16"}), "x")
    assert windows(result) == [
        ("autos", D("2025-04-03"), None, ""),
        ("recip", D("2025-04-05"), D("2026-02-24"), "autos"),
    ]


def test_end_glob_ends_every_match_in_force(base):
    result = apply_overlay(base, overlay({"operation": "end", "measure_id": "auto*", "effective_date": "2025-10-01"}), "x")
    assert windows(result) == [
        ("autos", D("2025-04-03"), D("2025-10-01"), ""),
        ("autos_jp", D("2025-09-16"), D("2025-10-01"), ""),
        ("recip", D("2025-04-05"), D("2026-02-24"), "autos autos_jp"),
    ]
    everything = apply_overlay(base, overlay({"operation": "end", "measure_id": "*", "effective_date": "2025-01-01"}), "x")
    assert everything.measures.height == 0


def test_change_splits_and_the_copy_inherits_exclusions(base):
    rows = overlay({"operation": "change", "measure_id": "autos", "effective_date": "2026-01-01", "rate": "0.30"})
    result = apply_overlay(base, rows, "x")
    assert result.measures.select("measure_id", "valid_from", "valid_to", "rate", "excluded_by").rows() == [
        ("autos", D("2025-04-03"), D("2026-01-01"), Decimal("0.25"), ""),
        ("autos_from_20260101", D("2026-01-01"), None, Decimal("0.30"), ""),
        ("autos_jp", D("2025-09-16"), None, Decimal("0.15"), ""),
        ("recip", D("2025-04-05"), D("2026-02-24"), Decimal("0.10"), "autos autos_from_20260101 autos_jp"),
    ]


def test_change_from_the_start_changes_in_place_and_can_clear_fields(base):
    rows = overlay({"operation": "change", "measure_id": "autos_jp", "effective_date": "2025-09-16",
                    "shape": "additive", "heading": "9903.02.30", "heading_at_or_above_cap": ""})
    result = apply_overlay(base, rows, "x")
    changed = result.measures.filter(pl.col("measure_id") == "autos_jp").row(0, named=True)
    assert (changed["shape"], changed["heading"], changed["heading_at_or_above_cap"], changed["valid_from"]) == (
        "additive", "9903.02.30", None, D("2025-09-16"))
    assert result.measures.filter(pl.col("measure_id") == "recip").item(0, "excluded_by") == "autos autos_jp"


def test_change_with_open_valid_to_extends_a_measure(base):
    rows = overlay({"operation": "change", "measure_id": "recip", "effective_date": "2026-02-24", "valid_to": ""})
    result = apply_overlay(base, rows, "x")
    assert windows(result)[2:] == [
        ("recip", D("2025-04-05"), D("2026-02-24"), "autos autos_jp"),
        ("recip_from_20260224", D("2026-02-24"), None, "autos autos_jp"),
    ]
    # a motorcycle (no 232) in March 2026: 2.4% MFN + 10% = 12.4% of 10,000 = 1,240.00 (enacted: 240.00)
    line = lines(("8711406000", "JP", "2026-03-10", "10000.00", "1"))
    assert compute_line_duty(line, result).item(0, "total_duty_usd") == Decimal("1240.00")
    assert compute_line_duty(line, base).item(0, "total_duty_usd") == Decimal("240.00")


def test_add_inserts_a_measure_with_defaults(base):
    rows = overlay({"operation": "add", "measure_id": "s301_new", "effective_date": "2026-03-01",
                    "program": "section_301", "component": "other", "layer": "s301", "scope_id": "*",
                    "origin": "JP", "shape": "additive", "rate": "0.05", "heading": "9903.05.99",
                    "confidence": "unconfirmed", "legal_source": "what-if", "description": "a new duty"})
    result = apply_overlay(base, rows, "x")
    added = result.measures.filter(pl.col("measure_id") == "s301_new").row(0, named=True)
    assert (added["valid_from"], added["valid_to"], added["excluded_by"], added["priority"], added["rate"]) == (
        D("2026-03-01"), None, "", 0, Decimal("0.05"))
    # 8703.23 car from Japan, 2026-03-10, 30,000: 15% total (4,500.00) + 5% (1,500.00) = 6,000.00
    line = lines(("8703230190", "JP", "2026-03-10", "30000.00", "1"))
    assert compute_line_duty(line, result).item(0, "total_duty_usd") == Decimal("6000.00")


@pytest.mark.parametrize(
    "rows,message",
    [
        ([{"operation": "end", "measure_id": "nope", "effective_date": "2025-06-01"}], "overlay row 1 (end nope from 2025-06-01): no such measure"),
        ([{"operation": "end", "measure_id": "x*", "effective_date": "2025-06-01"}], "the pattern matches no measure"),
        ([{"operation": "end", "measure_id": "recip", "effective_date": "2026-03-01"}], "already ends on 2026-02-24"),
        ([{"operation": "change", "measure_id": "recip", "effective_date": "2026-03-01", "rate": "0.2"}],
         "would be in force on no day"),
        ([{"operation": "add", "measure_id": "autos", "effective_date": "2026-03-01", "rate": "0.2"}], "already has this measure"),
        ([{"operation": "add", "measure_id": "extra", "effective_date": "2026-03-01", "rate": "0.2"}],
         "overlay row 1 (add extra from 2026-03-01): an added measure needs program, component, layer, scope_id"),
        ([{"operation": "end", "measure_id": "*", "effective_date": "2025-06-01"},
          {"operation": "change", "measure_id": "recip", "effective_date": "2025-06-01", "rate": "0.2"}],
         "measure recip is targeted by more than one overlay row (rows 1, 2)"),
    ],
)
def test_errors_name_the_overlay_row(base, rows, message):
    with pytest.raises(ScenarioError, match="scenario 'x': ") as error:
        apply_overlay(base, overlay(*rows), "x")
    assert message in str(error.value)


def test_as_enacted_is_reserved(base):
    with pytest.raises(ScenarioError, match="reserved"):
        apply_overlay(base, overlay({"operation": "end", "measure_id": "recip", "effective_date": "2025-06-01"}), "as_enacted")


@settings(max_examples=40, deadline=None)
@given(
    cut=st.dates(dt.date(2025, 1, 1), dt.date(2026, 12, 31)),
    entry=st.dates(dt.date(2025, 1, 1), dt.date(2026, 12, 31)),
    hts=st.sampled_from(["8703230190", "8711406000"]),
    origin=st.sampled_from(["JP", "DE"]),
)
def test_ending_everything_keeps_the_past_and_leaves_mfn_after(cut, entry, hts, origin):
    base = tiny_schedule(
        [
            measure("autos", "s232", "cars", "2025-04-03", "0.25"),
            measure("autos_jp", "s232", "cars", "2025-09-16", "0.15", origin="JP", shape="inclusive_total",
                    cap_heading="9903.94.40"),
            measure("recip", "ieepa", "*", "2025-04-05", "0.10", valid_to="2026-02-24",
                    excluded_by="autos autos_jp", component="ieepa", program="ieepa"),
        ],
        scopes={"cars": ["870323"]},
        mfn={"87032301": ("2.5%", "7", "0.025", "0"), "87114060": ("2.4%", "7", "0.024", "0")},
    )
    scenario = apply_overlay(base, overlay({"operation": "end", "measure_id": "*", "effective_date": cut.isoformat()}), "x")
    line = lines((hts, origin, entry.isoformat(), "10000.00", "1"))
    enacted = compute_line_duty(line, base).row(0, named=True)
    what_if = compute_line_duty(line, scenario).row(0, named=True)
    if entry < cut:
        assert what_if["total_duty_usd"] == enacted["total_duty_usd"]
    else:
        assert what_if["total_duty_usd"] == what_if["mfn_duty_usd"] == enacted["mfn_duty_usd"]
