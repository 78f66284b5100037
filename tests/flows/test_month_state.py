"""flows/run/month_state.py: what a month holds and what a re-run of it must do (golden cases
on hand-made published months)."""

from __future__ import annotations

from flows.run.month_state import (
    PublishedMonth,
    choose_scenarios,
    published_month,
    replaced,
    stale_tables,
    stale_warning,
)
from flows.warehouse.publish import publish_month
from tests.flows.frames import by_hs_month, rejects, run_record

OCT = PublishedMonth("2025-10", run_id="b-2025-10", scenarios=("no_japan_deal",), inputs=("customs", "vehicles"),
                     rows={"fct_duty_lines": 5, "fct_vehicle_duty": 7, "fct_duty_by_model_month": 2, "rejects": 1,
                           "fct_census_duty_by_hs_month": 0})


def test_published_month_reads_the_last_success_and_the_rows_per_table(tmp_path):
    db = tmp_path / "w.duckdb"
    common = dict(db_path=db, exports_dir=tmp_path / "exports", exports={})
    frame = by_hs_month("2025-10", [("8703230190", 1, "30000.00", "750.00"), ("8708999999", 1, "10.00", "0.25")])
    record = run_record("b1-2025-10", "2025-10").replace(scenarios=["pre_2025"], input_checksums={"customs": {}})
    publish_month(month="2025-10", tables={"fct_duty_by_hs_month": frame, "rejects": rejects("b1-2025-10", [(3, "x", "y", "z")])},
                  run=record, **common)
    assert published_month(db, "2025-10") == PublishedMonth(
        "2025-10", run_id="b1-2025-10", scenarios=("pre_2025",), inputs=("customs",),
        rows={"fct_duty_by_hs_month": 2, "rejects": 1},
    )
    assert published_month(db, "2025-11") == PublishedMonth("2025-11", rows={"fct_duty_by_hs_month": 0, "rejects": 0})
    assert published_month(tmp_path / "none.duckdb", "2025-10") == PublishedMonth("2025-10")


def test_no_scenario_option_re_runs_the_published_scenarios():
    assert choose_scenarios((), OCT) == (("no_japan_deal",), "scenarios no_japan_deal re-run as last published "
                                                           "(run b-2025-10); pass --scenario to choose others")
    assert choose_scenarios(("no_japan_deal",), OCT) == (("no_japan_deal",), None)
    assert choose_scenarios(("pre_2025",), OCT) == (("pre_2025",), "scenarios replaced: no_japan_deal (run b-2025-10) "
                                                                 "by pre_2025")
    assert choose_scenarios((), PublishedMonth("2025-10")) == ((), None)


def test_tables_the_run_does_not_build_are_stale_and_named():
    built = ["fct_duty_lines", "rejects"]
    assert stale_tables(OCT, built) == ["fct_vehicle_duty", "fct_duty_by_model_month"]
    assert stale_warning(OCT, ["fct_vehicle_duty", "fct_duty_by_model_month"], {"customs": "c.csv"}) == (
        "removed 2025-10 of fct_vehicle_duty (7 rows), fct_duty_by_model_month (2 rows), computed by run b-2025-10 "
        "from other inputs: this run has no --vehicles; pass the same inputs again to recompute them"
    )
    assert replaced(OCT, built) == {"fct_duty_lines": 5, "fct_vehicle_duty": 7, "fct_duty_by_model_month": 2, "rejects": 1}
    assert replaced(OCT, ["fct_duty_lines"]) == {"fct_duty_lines": 5, "fct_vehicle_duty": 7, "fct_duty_by_model_month": 2}
    assert stale_tables(PublishedMonth("2025-10"), built) == []
