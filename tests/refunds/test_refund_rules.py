"""The shipped refund status rules read cleanly; broken files fail with row, column and value."""

import pytest

from flows.inputs.refund_rules import RefundRulesError, read_refund_status_rules

HEADER = "status,liquidation_lag_days,days_after_liquidation_from,days_after_liquidation_to,cape_eligible,note,legal_source\n"


def test_shipped_rules_tile_the_days():
    rules = read_refund_status_rules()
    assert rules.get_column("status").to_list() == [
        "likely_unliquidated", "likely_within_80_days_of_liquidation", "likely_finally_liquidated"]
    assert rules.get_column("liquidation_lag_days").unique().to_list() == [314]


def test_bad_value_names_row_column_and_value(tmp_path):
    path = tmp_path / "rules.csv"
    path.write_text(HEADER + "a,314,,0,true,n,s\nb,three hundred,0,,false,n,s\n")
    with pytest.raises(RefundRulesError, match=r"row 2, column liquidation_lag_days, value 'three hundred'"):
        read_refund_status_rules(path)


def test_gap_between_windows_is_reported(tmp_path):
    path = tmp_path / "rules.csv"
    path.write_text(HEADER + "a,314,,0,true,n,s\nb,314,10,,false,n,s\n")
    with pytest.raises(RefundRulesError, match=r"status 'a' ends at 0 but the next window \('b'\) starts at 10"):
        read_refund_status_rules(path)
