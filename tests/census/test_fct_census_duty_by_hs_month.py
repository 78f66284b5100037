"""The Census path: reading the API format, mapping country codes, day-weighting, and the check
against Census's own calculated duty for 2024 (real data in data/reference/census)."""

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from flows.config import REFERENCE_DIR
from flows.inputs.census import CensusInputError, census_country_codes, load_census
from tests.engine.tiny_schedule import measure, tiny_schedule
from transforms.fct_census_duty_by_hs_month import build_fct_census_duty_by_hs_month

CENSUS = REFERENCE_DIR / "census"


def census_result(path: Path, schedule) -> pl.DataFrame:
    load = load_census(path, None, schedule)
    assert load.rejects.height == 0
    out = build_fct_census_duty_by_hs_month(load.stg, schedule)
    return out.filter(pl.col("hts_code").str.starts_with("87"))


def line_agreement(out: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    big = out.filter(pl.col("customs_value_usd") > 10_000_000)
    gap_pp = (pl.col("effective_duty_rate") - pl.col("calculated_duty_rate")).abs()
    return big, big.filter(gap_pp > Decimal("0.001"))


def test_japan_2024_chapter_87_reproduces_census_calculated_duty(schedule):
    out = census_result(CENSUS / "japan_2024_hs10_ch87.csv", schedule)
    assert out.height == 269
    calculated, computed = out["calculated_duty_usd"].sum(), out["computed_duty_usd"].sum()
    # Census: $1.262 billion on $52.125 billion; within 0.5% in total
    assert abs(computed / calculated - 1) < Decimal("0.005")
    big, off = line_agreement(out)
    # within 0.1 percentage point on at least 95% of the HS10 lines over $10M
    assert len(off) <= 0.05 * len(big), off
    # the two facts of the reference README: light trucks 25.0%, cab chassis 4.0%
    rates = dict(out.select("hts_code", "effective_duty_rate").iter_rows())
    assert rates["8704310120"] == Decimal("0.250000")
    assert rates["8704221120"] == Decimal("0.040000")


def test_eu_2024_chapter_87_total_and_lines(schedule):
    out = census_result(CENSUS / "eu_2024_hs10_imports.parquet", schedule)
    assert set(out["country_of_origin"].unique()) == {"EU"}
    calculated, computed = out["calculated_duty_usd"].sum(), out["computed_duty_usd"].sum()
    assert abs(computed / calculated - 1) < Decimal("0.005")
    big, off = line_agreement(out)
    # Measured: 124 of 131 lines over $10M within 0.1 pp (94.7%). Every miss is a line where
    # CBP collected LESS than the statutory MFN rate on all of it (duty-free entries under
    # chapter 98 provisions, not modelled); none is an over-statement by the schedule's rate.
    assert len(big) - len(off) >= 124
    assert off.filter(pl.col("calculated_duty_rate") >= pl.col("effective_duty_rate")).height == 0


def test_day_weighting_applies_a_measure_to_its_share_of_the_month(tmp_path):
    # April 2025 has 30 days; a +25% measure from 2025-04-03 is in force 28 of them.
    # value 3,000,000: MFN 2.5% = 75,000.00; extra 25% x 3,000,000 x 28/30 = 700,000.00
    schedule = tiny_schedule(
        [measure("autos", "s232", "cars", "2025-04-03", "0.25", heading="9903.94.01")],
        {"cars": ["87032301"]},
        {"87032301": ("2.5%", "7", "0.025", "0")},
    )
    path = tmp_path / "census.json"
    path.write_text(json.dumps([
        ["CTY_CODE", "I_COMMODITY", "CON_VAL_MO", "CAL_DUT_MO", "time"],
        ["5880", "8703230190", "3000000", "775000", "2025-04"],
        ["5880", "8703230190", "3000000", "75000", "2025-03"],
    ]))
    load = load_census(path, None, schedule)
    out = {r["month"]: r for r in build_fct_census_duty_by_hs_month(load.stg, schedule).to_dicts()}
    assert out["2025-04"]["mfn_duty_usd"] == Decimal("75000.00")
    assert out["2025-04"]["section_232_duty_usd"] == Decimal("700000.00")
    assert out["2025-04"]["computed_duty_usd"] == Decimal("775000.00")
    assert out["2025-04"]["duty_gap_usd"] == Decimal("0.00")
    assert out["2025-04"]["ch99_headings"] == "9903.94.01"
    assert out["2025-03"]["computed_duty_usd"] == Decimal("75000.00")
    assert out["2025-03"]["country_of_origin"] == "JP"


def test_bad_rows_are_rejected_with_row_column_and_check(tmp_path):
    schedule = tiny_schedule([], {}, {"87032301": ("2.5%", "7", "0.025", "0")})
    path = tmp_path / "census.csv"
    path.write_text(
        "CTY_CODE,I_COMMODITY,CON_VAL_MO,CAL_DUT_MO,time\n"
        "5880,8703230190,1000,25,2025-01\n"
        "9999,8703230190,1000,25,2025-01\n"
        "5880,87032301,1000,25,2025-01\n"
        "5880,8703230190,-5,25,2025-02\n"
    )
    rejects = load_census(path, None, schedule).rejects
    assert rejects.select("row_number", "column", "check", "value").rows() == [
        (2, "CTY_CODE", "cty_code_known", "9999"),
        (3, "I_COMMODITY", "hts10_format", "87032301"),
        (4, "CON_VAL_MO", "money_non_negative_2dp", "-5"),
    ]


def test_schema_level_problems_name_the_file(tmp_path):
    path = tmp_path / "census.csv"
    path.write_text("CTY_CODE,I_COMMODITY,time\n5880,8703230190,2025-01\n")
    schedule = tiny_schedule([], {}, {})
    with pytest.raises(CensusInputError, match="census.csv.*CON_VAL_MO"):
        load_census(path, None, schedule)


def test_country_codes_map_to_iso():
    codes = dict(census_country_codes().iter_rows())
    assert codes["5880"] == "JP" and codes["5800"] == "KR" and codes["4280"] == "DE"
    assert codes["0003"] == "EU" and codes["2774"] == "SX" and codes["4803"] == "XK"
    assert codes["1220"] == "CA" and codes["2010"] == "MX"


def test_run_with_census_input_publishes_the_census_mart(tmp_path, schedule):
    # `run --month 2024-12 --census FILE`: only the census input, the mart in DuckDB and Parquet
    import duckdb

    from flows.run.monthly import RunOptions, run_months

    opts = RunOptions(db_path=tmp_path / "w.duckdb", exports_dir=tmp_path / "exports",
                      inputs={"census": CENSUS / "japan_2024_hs10_ch87.csv"})
    [result] = run_months(["2024-12"], opts, schedule=schedule)
    assert result.status == "success", result.error
    assert any("Census calculated $1,261,974,298.00" in w for w in result.warnings)
    con = duckdb.connect(str(opts.db_path), read_only=True)
    try:
        rows, calculated, computed = con.sql(
            "SELECT count(*), sum(calculated_duty_usd), sum(computed_duty_usd) FROM fct_census_duty_by_hs_month"
        ).fetchall()[0]
    finally:
        con.close()
    assert (rows, calculated) == (269, Decimal("1261974298.00"))
    assert abs(computed / calculated - 1) < Decimal("0.005")
    exported = pl.read_parquet(opts.exports_dir / "census_duty_by_hs_month" / "year=2024" / "month=12")
    assert exported.height == 269
