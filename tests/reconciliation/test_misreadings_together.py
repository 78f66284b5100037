"""Misreadings that change only a measure's own rate or shape are priced for several measures
in one engine call (transforms/fct_reconciliation.py `_misread_prices`): every line must still
get the price of its own measure's misreading alone. Checked against one engine call per
measure on the embedded sample (22 months of Japanese lines, declared duty with every kind of
cause; some lines pay two of the misread measures, which must then be misread apart) and on
the golden lines of test_fct_reconciliation.py (one cause of each kind). The misread schedules
are priced together in batches (`TOGETHER_ROWS`): one pass for all, batches and one pass per
schedule give the same reconciliation."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from flows.inputs.customs import load_customs_lines
from tests.reconciliation.recon_schedule import SCHEDULE
from tests.reconciliation.test_fct_reconciliation import LINES
from transforms import fct_reconciliation
from transforms.fct_duty_lines import build_fct_duty_lines
from transforms.fct_reconciliation import build_fct_reconciliation

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "customs_lines.parquet"


def _one_call_per_measure(monkeypatch) -> None:
    monkeypatch.setattr(fct_reconciliation, "_apart", lambda jobs, together: [[job] for job in jobs])


@pytest.fixture(scope="module")
def sample_lines(schedule) -> pl.DataFrame:
    return build_fct_duty_lines(load_customs_lines(SAMPLE, None, schedule).stg, schedule)


def test_sample_causes_are_those_of_one_call_per_measure(sample_lines, schedule, monkeypatch):
    together = build_fct_reconciliation(sample_lines, schedule)
    assert together.get_column("likely_cause").drop_nulls().n_unique() > 5
    _one_call_per_measure(monkeypatch)
    assert together.equals(build_fct_reconciliation(sample_lines, schedule))


def test_one_cause_of_each_kind_as_with_one_call_per_measure(monkeypatch):
    # the golden lines of test_fct_reconciliation.py: one line for each kind of cause
    together = build_fct_reconciliation(LINES, SCHEDULE)
    assert together.get_column("likely_cause").drop_nulls().n_unique() == 5
    _one_call_per_measure(monkeypatch)
    assert together.equals(build_fct_reconciliation(LINES, SCHEDULE))


def _engine_passes(monkeypatch) -> list[int]:
    """The line count of each engine pass of the misread schedules, as they happen."""
    passes: list[int] = []
    engine = fct_reconciliation.compute_line_duty

    def counted(lines, schedule, **options):
        passes.append(lines.height)
        return engine(lines, schedule, **options)

    monkeypatch.setattr(fct_reconciliation, "compute_line_duty", counted)
    return passes


@pytest.mark.parametrize("limit", [0, 200])
def test_misread_schedules_priced_in_batches_as_in_one_pass(sample_lines, schedule, monkeypatch, limit):
    # the sample's misread schedules re-price 551 lines in all, in sets of 6-181 lines: one
    # engine pass for all, against one pass per schedule (limit 0) and batches of at most 200
    passes = _engine_passes(monkeypatch)
    together = build_fct_reconciliation(sample_lines, schedule)
    assert len(passes) == 1
    repriced = passes[0]
    passes.clear()
    monkeypatch.setattr(fct_reconciliation, "TOGETHER_ROWS", limit)
    assert together.equals(build_fct_reconciliation(sample_lines, schedule))
    assert sum(passes) == repriced and len(passes) > 2
    assert limit == 0 or max(passes) <= limit
