"""Month filtering: only the month's rows are staged and counted; rows whose date cannot be
parsed are counted and rejected in every month; entry-level rules see the entry's lines
dated in other months."""

from __future__ import annotations

from conftest import GOOD_ROW, write_rows

from flows.inputs.customs import load_customs_lines


def _rows() -> list[dict[str, str]]:
    return [
        dict(GOOD_ROW, entry_number="AAA00000010", entry_date="2025-09-30"),  # row 1
        dict(GOOD_ROW, entry_number="BBB00000010", entry_date="2025-10-01"),  # row 2
        dict(GOOD_ROW, entry_number="BBB00000010", entry_date="2025-10-01", line_number="2"),
        dict(GOOD_ROW, entry_number="CCC00000010", entry_date="10/15/2025"),  # row 4: Excel
        dict(GOOD_ROW, entry_number="DDD00000010", entry_date="2025-10-31"),  # row 5
        # entry EEE straddles the month boundary: rows 6 (Oct) and 7 (Nov)
        dict(GOOD_ROW, entry_number="EEE00000010", entry_date="2025-10-31"),
        dict(GOOD_ROW, entry_number="EEE00000010", entry_date="2025-11-01", line_number="2"),
        dict(GOOD_ROW, entry_number="FFF00000010", entry_date="2025-11-01"),  # row 8
        # a duplicate of row 2's key dated in another month
        dict(GOOD_ROW, entry_number="BBB00000010", entry_date="2025-12-01"),  # row 9
    ]


def test_october_stages_only_october_rows(tmp_path, schedule):
    result = load_customs_lines(write_rows(tmp_path / "m.csv", _rows()), "2025-10", schedule)
    # rows_in: rows 2, 3, 5, 6 (dated October) + row 4 (date unparseable) = 5
    assert result.rows_in == 5
    assert result.stg["source_row"].to_list() == [5]
    assert set(result.stg["month"]) == {"2025-10"}
    assert result.rejects.select("row_number", "check").rows() == [
        (2, "entry_single_date"),  # BBB also has a December line (row 9) ...
        (2, "grain_unique"),  # ... with the same key as row 2
        (3, "entry_single_date"),  # every line of BBB goes
        (4, "date_excel_style"),
        (6, "entry_single_date"),  # EEE has an October and a November line
    ]
    assert result.rows_in == result.stg.height + result.rows_rejected


def test_november_sees_the_other_side_of_the_straddling_entry(tmp_path, schedule):
    result = load_customs_lines(write_rows(tmp_path / "m.csv", _rows()), "2025-11", schedule)
    assert result.rows_in == 3  # rows 7, 8 and the unparseable row 4
    assert result.stg["source_row"].to_list() == [8]
    assert result.rejects.select("row_number", "check").rows() == [
        (4, "date_excel_style"),
        (7, "entry_single_date"),
    ]


def test_month_without_rows_loads_nothing(tmp_path, schedule):
    rows = [r for r in _rows() if r["entry_date"] != "10/15/2025"]
    result = load_customs_lines(write_rows(tmp_path / "m.csv", rows), "2024-01", schedule)
    assert (result.rows_in, result.stg.height, result.rejects.height) == (0, 0, 0)


def test_whole_file_when_month_is_none(tmp_path, schedule):
    result = load_customs_lines(write_rows(tmp_path / "m.csv", _rows()), None, schedule)
    assert result.rows_in == 9
    assert result.stg["source_row"].to_list() == [1, 5, 8]
