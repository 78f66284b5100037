"""The embedded synthetic sample (data/sample, scripts/make_sample.py) keeps the properties
its README promises: valid VINs but one, vehicles consistent with their customs lines but the
two deliberate defects, and about 0.2 % bad customs rows."""

from __future__ import annotations

import polars as pl
import pytest

from flows.config import SAMPLE_CUSTOMS, SAMPLE_VEHICLES
from transforms.stg_customs_lines import entry_number_key
from transforms.vin import check_digit_ok


@pytest.fixture(scope="module")
def sample() -> tuple[pl.DataFrame, pl.DataFrame]:
    return pl.read_parquet(SAMPLE_CUSTOMS), pl.read_parquet(SAMPLE_VEHICLES)


def test_every_column_is_text(sample):
    customs, vehicles = sample
    assert set(customs.dtypes) == {pl.Utf8} and set(vehicles.dtypes) == {pl.Utf8}


def test_exactly_one_vin_has_a_bad_check_digit(sample):
    _, vehicles = sample
    assert vehicles.filter(~check_digit_ok(pl.col("vin"))).height == 1
    assert vehicles["vin"].n_unique() == vehicles.height


def test_vehicles_match_their_lines_but_for_one_line(sample):
    customs, vehicles = sample
    per_line = vehicles.group_by("entry_number", "line_number").agg(
        pl.len().alias("vehicles"), pl.col("customs_value_usd").cast(pl.Decimal(18, 2)).sum().alias("value")
    )
    joined = per_line.join(customs, on=["entry_number", "line_number"], how="left")
    assert joined["hts_code"].null_count() == 0  # every vehicle references a line
    off = joined.filter(
        (pl.col("vehicles").cast(pl.Utf8) != pl.col("quantity"))
        | (pl.col("value") != pl.col("customs_value_usd").cast(pl.Decimal(18, 2)))
    )
    assert off.height == 1


def test_bad_customs_rows_are_about_two_per_thousand(sample):
    customs, _ = sample
    bad = customs.filter(
        ~pl.col("hts_code").str.contains(r"^[0-9]{4}\.?[0-9]{2}\.?[0-9]{2}\.?[0-9]{2}$")
        | pl.col("customs_value_usd").str.starts_with("-")
        | (pl.col("country_of_origin") == "XZ")
        | pl.col("customs_value_usd").str.contains(r"\.[0-9]{3}$")
    )
    assert 0.001 < bad.height / customs.height < 0.005
    assert customs.select(entry_number_key().n_unique()).item() < customs.height  # multi-line entries
