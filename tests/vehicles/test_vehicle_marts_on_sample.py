"""The vehicle marts on one month of the embedded sample, through the monthly run's own load
and compute stages (plain functions, no Prefect): the deliberately misdeclared electric car
is flagged, and every line's vehicle duty sums back to the line's duty."""

from __future__ import annotations

import polars as pl
import pytest

from flows.config import SAMPLE_CUSTOMS, SAMPLE_VEHICLES
from flows.inputs.schedule import read_schedule
from flows.inputs.vehicles import vehicle_warnings
from flows.run.monthly import MARTS, MonthContext, compute_stage, load_stage
from schemas.fct_vehicle_duty import line_sums

VEHICLE_MARTS = ("fct_duty_lines", "fct_vehicle_duty", "fct_duty_by_model_month")


@pytest.fixture(scope="module")
def misdeclared() -> dict:
    """The sample's electric vehicle declared on a petrol 8703.23 line, with its month."""
    customs = pl.read_parquet(SAMPLE_CUSTOMS)
    vehicles = pl.read_parquet(SAMPLE_VEHICLES)
    row = (
        vehicles.filter(pl.col("propulsion") == "electric")
        .join(customs, on=["entry_number", "line_number"])
        .filter(pl.col("hts_code").str.replace_all(".", "", literal=True).str.starts_with("870323"))
    )
    assert row.height == 1
    return row.row(0, named=True)


@pytest.fixture(scope="module")
def month_tables(misdeclared) -> dict[str, pl.DataFrame]:
    month = misdeclared["entry_date"][:7]
    schedule = read_schedule()
    loaded = load_stage(month, {"customs": SAMPLE_CUSTOMS, "vehicles": SAMPLE_VEHICLES}, schedule)
    ctx = MonthContext(month=month, schedule=schedule, loaded=loaded)
    return compute_stage(ctx, [m for m in MARTS if m.table in VEHICLE_MARTS])


def test_misdeclared_electric_car_is_flagged(month_tables, misdeclared):
    fct = month_tables["fct_vehicle_duty"]
    flagged = fct.filter(~pl.col("classification_ok"))
    assert flagged.select("vin", "hts_expected").rows() == [(misdeclared["vin"], "870380")]
    assert flagged["hts_declared"].item().startswith("870323")
    assert any("classification_mismatch: 1 line(s)" in w for w in vehicle_warnings(month_tables))


def test_vehicle_duty_and_fees_sum_to_their_lines(month_tables):
    sums = line_sums(month_tables["fct_vehicle_duty"], month_tables["fct_duty_lines"])
    assert sums.height > 100
    assert sums.filter(
        (pl.col("vehicles_duty_usd") != pl.col("line_duty_usd"))
        | (pl.col("vehicles_fees_usd") != pl.col("line_fees_usd"))
    ).height == 0


def test_model_month_totals_are_exact_sums_of_vehicles(month_tables):
    fct, by_model = month_tables["fct_vehicle_duty"], month_tables["fct_duty_by_model_month"]
    assert by_model["vehicles"].sum() == fct.height
    assert by_model["total_duty_usd"].sum() == fct["duty_usd"].sum()
    assert by_model["total_cost_usd"].sum() == fct["total_cost_usd"].sum()
