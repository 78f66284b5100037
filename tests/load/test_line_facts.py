"""The optional line facts of issue 16 (`export_date`, `declared_headings`, metal content):
parsed and normalised when present, checked with file/row/column/value/rule messages, and
absent without changing anything."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from conftest import COLUMNS, GOOD_ROW, write_rows

from flows.inputs.customs import load_customs_lines
from flows.inputs.kinds import validate_file

FACT_COLUMNS = [*COLUMNS, "export_date", "declared_headings"]


def test_facts_parse_and_normalise(tmp_path, schedule):
    rows = [
        dict(GOOD_ROW, line_number="1", export_date="2025-09-20", declared_headings=" 9903.94.41 ; 9903.94.41;"),
        dict(GOOD_ROW, line_number="2", export_date="2025-10-15", declared_headings="9903.94.06;9903.01.25",
             steel_content_value_usd="10000.00", aluminum_content_value_usd="20000.00"),
        dict(GOOD_ROW, line_number="3"),
    ]
    result = load_customs_lines(write_rows(tmp_path / "f.csv", rows, FACT_COLUMNS), None, schedule)
    assert result.rejects.height == 0, result.rejects
    stg = result.stg.sort("line_number")
    # spaces and the trailing ';' dropped, repeats dropped, order kept; export on the entry day is fine
    assert stg["declared_headings"].to_list() == ["9903.94.41", "9903.94.06;9903.01.25", None]
    assert stg["export_date"].to_list() == [dt.date(2025, 9, 20), dt.date(2025, 10, 15), None]
    # content may add up to the value exactly
    assert stg["aluminum_content_value_usd"].to_list()[1] == Decimal("20000.00")


def test_every_fact_rule_is_reported_with_row_column_value(tmp_path, schedule):
    rows = [
        dict(GOOD_ROW, line_number="1", export_date="10/15/2025"),
        dict(GOOD_ROW, line_number="2", export_date="2025-02-30"),
        dict(GOOD_ROW, line_number="3", export_date="2025-10-16"),  # after the entry date
        dict(GOOD_ROW, line_number="4", declared_headings="9903.94.05;99039406"),
        dict(GOOD_ROW, line_number="5", declared_headings="8703.23.01"),
        dict(GOOD_ROW, line_number="6", steel_content_value_usd="30000.01"),
        dict(GOOD_ROW, line_number="7", steel_content_value_usd="20000.00", aluminum_content_value_usd="10000.01"),
    ]
    path = write_rows(tmp_path / "bad.csv", rows, FACT_COLUMNS)
    problems = validate_file(path, "customs", schedule)
    assert [(p.row, p.column, p.check, p.value) for p in problems] == [
        (1, "export_date", "date_excel_style", "10/15/2025"),
        (2, "export_date", "date_iso", "2025-02-30"),
        (3, "export_date", "export_not_after_entry", "2025-10-16"),
        (4, "declared_headings", "heading_format", "9903.94.05;99039406"),
        (5, "declared_headings", "heading_format", "8703.23.01"),
        (6, "steel_content_value_usd", "content_not_above_value", "30000.01"),
        (7, "steel_content_value_usd,aluminum_content_value_usd", "content_not_above_value", "20000.00,10000.01"),
    ]
    assert problems[2].message.endswith("(entry_date 2025-10-15)")
    assert problems[3].message.endswith("(not a heading: 99039406)")
    assert "customs_value_usd 30000.00" in problems[5].message
    assert all(p.file == str(path) for p in problems)


def test_files_without_the_fact_columns_stage_them_empty(good_csv, schedule):
    result = load_customs_lines(good_csv, None, schedule)
    assert result.rejects.height == 0
    assert result.stg["export_date"].null_count() == result.stg.height
    assert result.stg["declared_headings"].null_count() == result.stg.height
