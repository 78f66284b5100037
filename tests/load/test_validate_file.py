"""`validate_file`: the core of `tariffcost validate`."""

from __future__ import annotations

import pytest
from conftest import GOOD_ROW, write_rows

from flows.inputs.kinds import validate_file
from flows.inputs.problems import Problem


def test_good_file_has_no_problems(good_csv, schedule):
    assert validate_file(good_csv, "customs", schedule) == []


def test_problems_sorted_by_row_then_column_with_messages(tmp_path, schedule):
    rows = [
        dict(GOOD_ROW, line_number="1", port_code="12", customs_value_usd="1,000.00"),
        dict(GOOD_ROW, line_number="2"),
        dict(GOOD_ROW, line_number="3", hts_code="7005290810", quantity_unit="KG"),
    ]
    path = write_rows(tmp_path / "v.csv", rows)
    problems = validate_file(path, "customs", schedule)
    assert [(p.row, p.column, p.check, p.value) for p in problems] == [
        (1, "customs_value_usd", "thousands_separator", "1,000.00"),
        (1, "port_code", "port_code_4_digits", "12"),
        (3, "quantity_unit", "quantity_unit_matches_rate", "KG"),
    ]
    assert all(p.file == str(path) for p in problems)
    assert problems[2].message.endswith("(expected M2)")
    assert str(problems[1]) == (
        f"{path}: row 1, column port_code: port_code_4_digits: must be a 4-digit US port code "
        "(value '12')"
    )


def test_schema_problem_is_one_problem_without_row(tmp_path, schedule):
    path = tmp_path / "semi.csv"
    path.write_text("entry_number;line_number\nABC12345678;1\n")
    [problem] = validate_file(path, "customs", schedule)
    assert problem == Problem(
        file=str(path),
        row=None,
        column=None,
        value=None,
        check="delimiter",
        message=problem.message,
    )
    assert "';'" in problem.message


def test_unknown_kind(good_csv, schedule):
    with pytest.raises(ValueError, match="no validator registered for input kind 'invoices'"):
        validate_file(good_csv, "invoices", schedule)
