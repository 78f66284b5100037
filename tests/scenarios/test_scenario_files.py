"""flows/inputs/scenarios.py: shipped scenarios read and validate; bad files fail with the
file, overlay row, field, value and rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.inputs.scenarios import ScenarioFileError, read_scenario, read_scenarios, scenario_path, shipped_scenarios


def test_the_shipped_scenarios_are_there_and_valid(schedule):
    assert shipped_scenarios() == ["ieepa_upheld", "no_japan_deal", "pre_2025"]
    scenarios = read_scenarios(shipped_scenarios(), schedule)
    assert {name: s.name for name, s in scenarios.items()} == {n: n for n in shipped_scenarios()}
    assert scenarios["pre_2025"].measures.height == 0  # MFN only


def test_no_japan_deal_measures(schedule):
    measures = read_scenario("no_japan_deal", schedule).measures
    ids = measures.get_column("measure_id").to_list()
    assert "s232_autos_jp_deal" not in ids and "s232_parts_jp_deal" not in ids
    assert not measures.get_column("excluded_by").str.contains("jp_deal").any()
    jp = measures.filter(measures["measure_id"] == "ieepa_jp_deal").row(0, named=True)
    assert (jp["shape"], jp["heading"], jp["heading_at_or_above_cap"], str(jp["valid_from"])) == (
        "additive", "9903.02.30", None, "2025-08-07")


def test_ieepa_upheld_measures(schedule):
    measures = read_scenario("ieepa_upheld", schedule).measures
    ids = measures.get_column("measure_id").to_list()
    assert "s122" not in ids and "s301_jp_2026" not in ids
    open_ended = measures.filter(measures["valid_to"].is_null() & measures["program"].eq("ieepa"))
    assert sorted(open_ended.get_column("measure_id")) == ["ieepa_baseline_from_20260224", "ieepa_jp_deal_from_20260224"]


def test_a_path_works_like_a_name(schedule, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(Path(scenario_path("pre_2025")).read_text().replace('name = "pre_2025"', 'name = "mine"'))
    assert read_scenario(str(path), schedule).name == "mine"


def _write(tmp_path, body: str) -> str:
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\ndescription = "test"\n' + body)
    return str(path)


@pytest.mark.parametrize(
    "body,expected",
    [
        ('[[overlay]]\noperation = "end"\nmeasure_id = "s122"\n', "overlay row 1: field effective_date is required"),
        ('[[overlay]]\noperation = "end"\nmeasure_id = "s122"\neffective_date = "2026-03-01"\n',
         "overlay row 1, field effective_date, value '2026-03-01': must be a TOML date"),
        ('[[overlay]]\noperation = "change"\nmeasure_id = "s122"\neffective_date = 2026-03-01\nrate = "ten"\n',
         "overlay row 1, field rate, value 'ten': must be a decimal fraction"),
        ('[[overlay]]\noperation = "change"\nmeasure_id = "s122"\neffective_date = 2026-03-01\nvalid_from = 2026-01-01\n',
         "overlay row 1: unknown field(s) valid_from"),
        ('[[overlay]]\noperation = "change"\nmeasure_id = "s1*"\neffective_date = 2026-03-01\nrate = "0.2"\n',
         "overlay row 1, field measure_id, value 's1*': breaks check a glob (*) may only be used to end measures"),
        ('[[overlay]]\noperation = "change"\nmeasure_id = "s122"\neffective_date = 2026-03-01\nheading = "9903.3.1"\n',
         "overlay row 1, field heading, value '9903.3.1': breaks check str_matches"),
        ('[[overlay]]\noperation = "change"\nmeasure_id = "s122"\neffective_date = 2026-03-01\nrate = "1.5"\n',
         "overlay row 1, field rate, value "),
        # beyond Decimal(38, 10): named, not a bare BindingsError from Polars (issue 15, item 8)
        ('[[overlay]]\noperation = "change"\nmeasure_id = "s122"\neffective_date = 2026-03-01\nrate = "1e400"\n',
         "overlay row 1, field rate, value '1e400': must be a decimal fraction with at most 10 decimals "
         "and 28 digits before the point"),
        ('[[overlay]]\noperation = "change"\nmeasure_id = "s122"\neffective_date = 2026-03-01\nrate = 1e30\n',
         "overlay row 1, field rate, value 1e+30: must be a decimal fraction"),
        ('[[overlay]]\noperation = "change"\nmeasure_id = "s122"\neffective_date = 2026-03-01\nheading = ""\n',
         "overlay row 1, field fields_set, value 'heading': breaks check only valid_to and heading_at_or_above_cap may be set empty"),
        ('[[overlay]]\noperation = "end"\nmeasure_id = "s122"\neffective_date = 2026-03-01\nrate = "0.2"\n',
         "breaks check end sets no field; change sets at least one"),
        ('[[overlay]]\noperation = "change"\nmeasure_id = "s122"\neffective_date = 2026-03-01\nscope_id = "no_such_scope"\n',
         "measure s122_from_20260301 (overlay row 1), field scope_id, value 'no_such_scope': not a scope of the schedule"),
        ('[[overlay]]\noperation = "change"\nmeasure_id = "ieepa_jp_deal"\neffective_date = 2025-09-01\nshape = "additive"\n',
         "inclusive_total needs heading_at_or_above_cap; additive must leave it empty"),
        ('[[overlay]]\noperation = "end"\nmeasure_id = "nope"\neffective_date = 2026-03-01\n', "no such measure in the schedule"),
        ("", "at least one [[overlay]] table is required"),
        ('[[overlay]\n', "not valid TOML"),
    ],
)
def test_bad_scenario_files(schedule, tmp_path, body, expected):
    path = _write(tmp_path, body)
    with pytest.raises(ScenarioFileError) as error:
        read_scenario(path, schedule)
    assert path in str(error.value)
    assert expected in str(error.value)


def test_reserved_and_duplicate_names(schedule, tmp_path):
    path = tmp_path / "a.toml"
    path.write_text('name = "as_enacted"\ndescription = "x"\n[[overlay]]\noperation = "end"\nmeasure_id = "s122"\neffective_date = 2026-03-01\n')
    with pytest.raises(ScenarioFileError, match="reserved for the schedule as enacted"):
        read_scenario(str(path), schedule)
    with pytest.raises(ScenarioFileError, match="given twice"):
        read_scenarios(["pre_2025", "pre_2025"], schedule)


def test_unknown_name_lists_the_shipped_ones():
    with pytest.raises(ScenarioFileError, match="no shipped scenario named 'nope' \\(shipped: ieepa_upheld, no_japan_deal, pre_2025\\)"):
        scenario_path("nope")


def test_a_file_read_again_against_the_same_schedule_is_not_read_again(schedule, tmp_path):
    # a backfill reads the run's scenarios every month: the same bytes against the same
    # schedule object give the scenario read before; changed bytes are read and checked anew
    path = tmp_path / "mine.toml"
    path.write_text(Path(scenario_path("pre_2025")).read_text().replace('name = "pre_2025"', 'name = "mine"'))
    first = read_scenario(str(path), schedule)
    assert read_scenario(str(path), schedule) is first
    path.write_text(path.read_text().replace('name = "mine"', 'name = "Mine!"'))
    with pytest.raises(ScenarioFileError, match="must be an identifier"):
        read_scenario(str(path), schedule)
