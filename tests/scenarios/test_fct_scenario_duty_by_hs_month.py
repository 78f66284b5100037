"""fct_scenario_duty_by_hs_month golden rows on a tiny schedule, and its contract catching a
wrong delta or a scenario missing rows."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pandera.polars as pa
import polars as pl
import pytest

from flows.inputs.schedule import read_schedule
from schemas.fct_scenario_duty_by_hs_month import CONTRACT
from tests.engine.tiny_schedule import measure, tiny_schedule
from tests.scenarios.overlay_rows import overlay
from tests.scenarios.test_shipped_scenarios import staged_lines
from transforms.fct_duty_lines import build_fct_duty_lines
from transforms.fct_scenario_duty_by_hs_month import build_fct_scenario_duty_by_hs_month
from transforms.scenario import apply_overlay

D = Decimal


def _base_and_half():
    """A schedule with 232 autos at 25%, and the scenario `half` that halves it from June."""
    base = tiny_schedule(
        [measure("autos", "s232", "cars", "2025-04-03", "0.25", heading="9903.94.01")],
        scopes={"cars": ["870323"]},
        mfn={"87032301": ("2.5%", "7", "0.025", "0"), "87114060": ("2.4%", "7", "0.024", "0")},
    )
    base = replace(base, fees=read_schedule().fees)  # the line mart needs the MPF/HMF rows
    half = apply_overlay(base, overlay({"operation": "change", "measure_id": "autos", "effective_date": "2025-06-01",
                                        "rate": "0.125"}), "half")
    return base, half


@pytest.fixture
def mart():
    base, half = _base_and_half()
    stg = staged_lines([
        ("ABC00000001", "8703230190", "2025-05-10", "20000.00"),
        ("ABC00000002", "8703230190", "2025-05-20", "10000.00"),
        ("ABC00000003", "8703230190", "2025-06-02", "10000.00"),
        ("ABC00000004", "8711406000", "2025-06-03", "5000.00"),
    ])
    return build_fct_scenario_duty_by_hs_month(build_fct_duty_lines(stg, base), stg, {"half": half})


def test_golden_rows(mart):
    assert mart.select("scenario", "month", "hts_code", "line_count", "customs_value_usd", "mfn_duty_usd",
                       "section_232_duty_usd", "total_duty_usd", "delta_vs_enacted_usd").rows() == [
        # May cars: 30,000 × (2.5% + 25%) = 750 + 7,500 = 8,250 (the change starts in June)
        ("as_enacted", "2025-05", "8703230190", 2, D("30000.00"), D("750.00"), D("7500.00"), D("8250.00"), D("0.00")),
        # June car: 10,000 × 27.5% = 2,750; motorcycle 5,000 × 2.4% = 120
        ("as_enacted", "2025-06", "8703230190", 1, D("10000.00"), D("250.00"), D("2500.00"), D("2750.00"), D("0.00")),
        ("as_enacted", "2025-06", "8711406000", 1, D("5000.00"), D("120.00"), D("0.00"), D("120.00"), D("0.00")),
        ("half", "2025-05", "8703230190", 2, D("30000.00"), D("750.00"), D("7500.00"), D("8250.00"), D("0.00")),
        # June car at 12.5%: 250 + 1,250 = 1,500; delta 1,500 − 2,750 = −1,250
        ("half", "2025-06", "8703230190", 1, D("10000.00"), D("250.00"), D("1250.00"), D("1500.00"), D("-1250.00")),
        ("half", "2025-06", "8711406000", 1, D("5000.00"), D("120.00"), D("0.00"), D("120.00"), D("0.00")),
    ]
    CONTRACT.validate(mart)


def test_contract_catches_a_wrong_delta(mart):
    bad = mart.with_columns(
        delta_vs_enacted_usd=pl.when(pl.col("scenario") == "half").then(pl.col("delta_vs_enacted_usd") + D("1"))
        .otherwise(pl.col("delta_vs_enacted_usd")).cast(pl.Decimal(18, 2))
    )
    with pytest.raises(pa.errors.SchemaErrors, match="delta_is_total_minus_enacted_total"):
        CONTRACT.validate(bad, lazy=True)


def test_contract_catches_a_scenario_missing_rows(mart):
    bad = mart.filter(~((pl.col("scenario") == "half") & (pl.col("hts_code") == "8711406000")))
    with pytest.raises(pa.errors.SchemaErrors, match="every_scenario_covers_the_enacted_rows"):
        CONTRACT.validate(bad, lazy=True)


def test_enacted_name_is_reserved(mart):
    with pytest.raises(ValueError, match="reserved"):
        build_fct_scenario_duty_by_hs_month(pl.DataFrame(), pl.DataFrame(), {"as_enacted": None})



def test_as_enacted_from_the_hs_month_mart_equals_the_lines_sums():
    """Given fct_duty_by_hs_month (what the run passes), as_enacted is the same as summed from
    the lines."""
    from transforms.fct_duty_by_hs_month import build_fct_duty_by_hs_month

    base, half = _base_and_half()
    stg = staged_lines([
        ("ABC00000001", "8703230190", "2025-05-10", "20000.00"),
        ("ABC00000002", "8703230190", "2025-06-02", "10000.00"),
        ("ABC00000003", "8711406000", "2025-06-03", "5000.00"),
    ])
    lines = build_fct_duty_lines(stg, base)
    summed = build_fct_scenario_duty_by_hs_month(lines, stg, {"half": half})
    given = build_fct_scenario_duty_by_hs_month(lines, stg, {"half": half}, build_fct_duty_by_hs_month(lines))
    assert given.equals(summed)
