"""The Prefect flows under one temporary Prefect API (session harness): stages run as tasks,
the summary becomes a markdown artifact, a failed month fails the flow run."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from tests.flows.frames import BAD_JUNE, CAR_JUNE, CAR_SEPT


def test_backfill_flow_runs_the_month_logic_per_month(prefect_harness, tmp_path, customs_csv, capsys):
    from prefect.artifacts import Artifact

    from flows.run.monthly import RunFailed, backfill_duty_runs, monthly_duty_run

    path = customs_csv([CAR_JUNE, CAR_SEPT])
    db, exports = tmp_path / "w.duckdb", tmp_path / "exports"

    # August has no lines: the backfill stops there, nothing published (issue 15: an empty
    # month would replace a published one with nothing)
    with pytest.raises(RunFailed, match="2025-08: no rows for 2025-08 in .* pass --allow-empty"):
        backfill_duty_runs(start="2025-08", end="2025-09", customs=str(path), db=str(db), exports=str(exports))
    assert not db.exists()

    results = backfill_duty_runs(start="2025-08", end="2025-09", customs=str(path), db=str(db), exports=str(exports),
                                 allow_empty=True)

    # with --allow-empty August publishes an empty month
    assert [(r.month, r.status, r.rows_published) for r in results] == [
        ("2025-08", "success", 0), ("2025-09", "success", 1),
    ]
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("SELECT month, total_duty_usd FROM fct_duty_lines ORDER BY month").fetchall() == [
        ("2025-09", Decimal("4500.00")),
    ]
    # one backfill: one batch id shared by the months' run ids
    assert con.sql("SELECT count(DISTINCT split_part(run_id, '-2025', 1)), count(*) FROM runs "
                   "WHERE status = 'success'").fetchall() == [(1, 2)]
    con.close()
    assert "2 of 2 months published" in capsys.readouterr().out
    artifact = Artifact.get("tariffcost-run-summary")
    assert "| 2025-09 | success | 1 | 0 | 1 |" in artifact.data

    bad = customs_csv([BAD_JUNE], name="bad.csv")
    with pytest.raises(RunFailed, match="exceeds --max-reject-rate"):
        monthly_duty_run(month="2025-06", customs=str(bad), db=str(db), exports=str(exports))
