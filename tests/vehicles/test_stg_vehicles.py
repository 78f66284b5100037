"""stg_vehicles: row rules of the vehicles file (rejects) and the loader on tiny files."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest

from flows.inputs.kinds import validate_file
from flows.inputs.vehicles import load_vehicles
from transforms.rejects import SOURCE_ROW, flag_failures, split_on_failures
from transforms.stg_vehicles import REQUIRED_COLUMNS, parse_vehicles, stage_vehicles, vehicle_checks

GOOD = {
    "vin": "1M8GDM9AXKP042788",
    "entry_number": "EBJ-1000001-7",
    "line_number": "1",
    "make": "Toyota",
    "model": "RAV4",
    "model_year": "2026",
    "vehicle_class": "passenger",
    "propulsion": "petrol",
    "engine_cc": "2487",
    "gvw_kg": "2050",
    "msrp_usd": "37000.00",
    "customs_value_usd": "30000.00",
}
LINE_KEYS = pl.DataFrame(
    {
        "entry_number": ["EBJ10000017", "EBJ10000017"],
        "line_number": [1, 2],
        "entry_date": [dt.date(2025, 10, 6), dt.date(2025, 10, 6)],
        "staged": [True, False],
    }
)


def _rejects(rows: list[dict], line_keys: pl.DataFrame | None = LINE_KEYS) -> list[tuple]:
    raw = pl.DataFrame(rows, schema={c: pl.Utf8 for c in REQUIRED_COLUMNS}).with_row_index(SOURCE_ROW, offset=1)
    raw = raw.with_columns(pl.col(SOURCE_ROW).cast(pl.Int64))
    checks = vehicle_checks()
    _, rejects = split_on_failures(flag_failures(parse_vehicles(raw, line_keys), checks), checks, "v.csv")
    return rejects.select("row_number", "column", "check", "value").rows()


def test_a_good_row_is_staged_normalised():
    raw = pl.DataFrame([{**GOOD, "vin": " 1m8gdm9axkp042788 ", "propulsion": "Petrol"}]).with_columns(
        pl.lit(1, pl.Int64).alias(SOURCE_ROW)
    )
    checks = vehicle_checks()
    passed, rejects = split_on_failures(flag_failures(parse_vehicles(raw, LINE_KEYS), checks), checks, "v.csv")
    assert rejects.height == 0
    stg = stage_vehicles(passed)
    assert stg.row(0, named=True) == {
        "vin": "1M8GDM9AXKP042788", "entry_number": "EBJ10000017", "line_number": 1,
        "entry_date": dt.date(2025, 10, 6), "month": "2025-10", "make": "Toyota", "model": "RAV4",
        "model_year": 2026, "vehicle_class": "passenger", "propulsion": "petrol", "engine_cc": 2487,
        "gvw_kg": 2050, "msrp_usd": Decimal("37000.00"), "customs_value_usd": Decimal("30000.00"),
        SOURCE_ROW: 1,
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"vin": "1M8GDM9A1KP042788"}, [("vin", "vin_check_digit", "1M8GDM9A1KP042788")]),
        ({"vin": "1M8GDM9AXKP04278I"}, [("vin", "vin_characters", "1M8GDM9AXKP04278I")]),
        ({"vin": "1M8GDM9AXKP04278"}, [("vin", "vin_length", "1M8GDM9AXKP04278")]),
        ({"line_number": "3"}, [("entry_number,line_number", "customs_line_exists", "EBJ-1000001-7,3")]),
        ({"line_number": "2"}, [("entry_number,line_number", "customs_line_staged", "EBJ-1000001-7,2")]),
        # entry in 2025: model year 2027 is more than entry year + 1
        ({"model_year": "2027"}, [("model_year", "model_year_plausible", "2027")]),
        ({"model_year": "1980"}, [("model_year", "model_year_plausible", "1980")]),
        ({"propulsion": "steam"}, [("propulsion", "propulsion_allowed", "steam")]),
        ({"vehicle_class": "bus"}, [("vehicle_class", "vehicle_class_allowed", "bus")]),
        ({"engine_cc": ""}, [("engine_cc", "engine_cc_required", None)]),
        ({"propulsion": "electric"}, [("engine_cc", "engine_cc_empty_without_engine", "2487")]),
        ({"gvw_kg": "2050.5"}, [("gvw_kg", "integer", "2050.5")]),
        ({"customs_value_usd": "-1.00"}, [("customs_value_usd", "ge_0", "-1.00")]),
        ({"msrp_usd": "37,000.00"}, [("msrp_usd", "thousands_separator", "37,000.00")]),
        ({"make": " "}, [("make", "not_empty", " ")]),
    ],
)
def test_one_broken_rule_gives_one_reject(change, expected):
    assert _rejects([{**GOOD, **change}]) == [(1, *e) for e in expected]


def test_duplicate_vins_are_all_rejected():
    got = _rejects([GOOD, GOOD])
    assert got == [(1, "vin", "vin_unique", GOOD["vin"]), (2, "vin", "vin_unique", GOOD["vin"])]


def test_without_customs_context_line_rules_are_skipped():
    assert _rejects([{**GOOD, "line_number": "3", "model_year": "2030"}], line_keys=None) == []


# --------------------------------------------------------------------------- the loader


def _write_csv(path: Path, rows: list[dict]) -> Path:
    pl.DataFrame(rows, schema={c: pl.Utf8 for c in rows[0]}).write_csv(path)
    return path


@pytest.fixture
def files(tmp_path):
    customs = _write_csv(
        tmp_path / "customs.csv",
        [
            {"entry_number": "EBJ-1000001-7", "line_number": "1", "entry_date": "2025-10-06"},
            {"entry_number": "EBJ-1000002-5", "line_number": "1", "entry_date": "2025-11-03"},
        ],
    )
    vehicles = _write_csv(
        tmp_path / "vehicles.csv",
        [
            GOOD,  # October
            {**GOOD, "vin": "JHMCM56557C404453", "entry_number": "EBJ-1000002-5"},  # November
            {**GOOD, "vin": "JHMCM56557C404454", "entry_number": "EBJ-9999999-9"},  # orphan, bad digit
        ],
    )
    staged_october = SimpleNamespace(stg=pl.DataFrame({"entry_number": ["EBJ10000017"], "line_number": [1]}))
    return customs, vehicles, staged_october


def test_load_vehicles_keeps_the_month_and_rejects_orphans(files):
    customs, vehicles, staged = files
    load = load_vehicles(vehicles, "2025-10", None, context={"customs": (customs, staged)})
    assert load.stg["vin"].to_list() == ["1M8GDM9AXKP042788"]
    assert load.rows_in == 2  # the October vehicle and the orphan (undatable: in every month)
    assert load.rejects.select("row_number", "check").rows() == [
        (3, "customs_line_exists"),
        (3, "vin_check_digit"),
    ]


def test_load_vehicles_needs_the_customs_input(files):
    _, vehicles, _ = files
    with pytest.raises(ValueError, match="needs the customs lines input"):
        load_vehicles(vehicles, "2025-10", None, context={})


def test_validate_vehicles_file_alone(files):
    _, vehicles, _ = files
    problems = validate_file(vehicles, "vehicles", None)
    assert [(p.row, p.column, p.check) for p in problems] == [(3, "vin", "vin_check_digit")]
    # the last character 3 → 4 adds its weight 2 to the sum: check digit 5 + 2 = 7
    assert "expected 7" in problems[0].message
