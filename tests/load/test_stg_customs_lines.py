"""Golden rows for the customs lines loader: good rows stage with exact dtypes and values, each
bad value lands in `rejects` with its row, column, check and raw value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from conftest import COLUMNS, GOOD_ROW, write_rows

from flows.inputs.customs import load_customs_lines
from flows.inputs.files import InputSchemaError
from schemas.stg_customs_lines import StgCustomsLines

STG_SCHEMA = {
    "entry_number": pl.Utf8,
    "line_number": pl.Int64,
    "entry_date": pl.Date,
    "month": pl.Utf8,
    "hts_code": pl.Utf8,
    "country_of_origin": pl.Utf8,
    "customs_value_usd": pl.Decimal(18, 2),
    "quantity": pl.Decimal(38, 10),
    "quantity_unit": pl.Utf8,
    "transport_mode": pl.Utf8,
    "port_code": pl.Utf8,
    "importer_id": pl.Utf8,
    "declared_duty_usd": pl.Decimal(18, 2),
    "steel_content_value_usd": pl.Decimal(18, 2),
    "aluminum_content_value_usd": pl.Decimal(18, 2),
    "export_date": pl.Date,
    "declared_headings": pl.Utf8,
    "declared_heading_duties_usd": pl.Utf8,
    "source_row": pl.Int64,
}


def test_good_rows_stage_normalised_with_exact_dtypes(good_csv, schedule):
    result = load_customs_lines(good_csv, None, schedule)

    assert dict(result.stg.schema) == STG_SCHEMA
    assert result.rejects.height == 0
    assert result.rows_in == 5
    assert result.source == str(good_csv)
    d = Decimal
    expected = pl.DataFrame(
        [
            # dashes dropped; dots dropped from the HTS code; extra column broker_note ignored
            ("ABC12345678", 1, dt.date(2025, 10, 15), "2025-10", "8703230190", "JP",
             d("30000.00"), d("1"), "NO", "vessel", "2704", "IMP-001", d("750.00"), None, None, None, None, None, 1),
            # unit "no" → NO, mode "Vessel" → vessel, 28000.5 → 28000.50
            ("ABC12345678", 2, dt.date(2025, 10, 15), "2025-10", "8704310120", "JP",
             d("28000.50"), d("1"), "NO", "vessel", "2704", "IMP-001", None, None, None, None, None, None, 2),
            # spaces around the HTS code stripped (the lines in line order: K0Q before XYZ,
            # although it is the file's last row)
            ("K0Q00000010", 1, dt.date(2025, 11, 3), "2025-11", "4011101010", "JP",
             d("5000.00"), d("40"), "NO", "air", "4601", "IMP-003", None, None, None, None, None, None, 5),
            # lower-case entry number and country upper-cased; specific rate on M2, unit M2
            ("XYZ98765432", 1, dt.date(2025, 10, 2), "2025-10", "7005290810", "JP",
             d("1200.00"), d("35.5"), "M2", "truck", "3802", "IMP-002", None, d("100.00"),
             d("0.00"), None, None, None, 3),
            # rate type 2: specific on the second unit (KG)
            ("XYZ98765432", 2, dt.date(2025, 10, 2), "2025-10", "7004902500", "JP",
             d("800.10"), d("250.125"), "KG", "truck", "3802", "IMP-002", d("5.60"), None, None, None, None, None, 4),
        ],
        schema=STG_SCHEMA,
        orient="row",
    )
    assert result.stg.equals(expected), result.stg
    StgCustomsLines.validate(result.stg)


def _entry(i: int) -> str:
    """A distinct well-formed entry number per row, so entry-level rules stay quiet."""
    return f"BAD{i:07d}0"


# (column, bad value, other overrides, expected check). Each case is one data row.
BAD_VALUES = [
    ("entry_number", "AB-1234567-8", {}, "entry_number_format"),
    ("entry_number", "ABC-12345-8", {}, "entry_number_format"),
    ("entry_number", "", {}, "not_empty"),
    ("line_number", "0", {}, "ge_1"),
    ("line_number", "1.5", {}, "integer"),
    ("line_number", "one", {}, "integer"),
    ("line_number", "99999999999999999999999", {}, "integer"),
    ("entry_date", "10/15/2025", {}, "date_excel_style"),
    ("entry_date", "2025-02-30", {}, "date_iso"),
    ("entry_date", "2025-1-5", {}, "date_iso"),
    ("entry_date", "", {}, "not_empty"),
    ("hts_code", "870323019", {}, "hts_10_digits"),
    ("hts_code", "8703-23-01-90", {}, "hts_10_digits"),
    ("hts_code", "9999999999", {}, "hts8_in_schedule"),
    ("country_of_origin", "XX", {}, "iso3166_alpha2"),
    ("country_of_origin", "JPN", {}, "iso3166_alpha2"),
    ("customs_value_usd", "30,000.00", {}, "thousands_separator"),
    ("customs_value_usd", "-1", {}, "ge_0"),
    ("customs_value_usd", "1.234", {}, "max_2_decimals"),
    ("customs_value_usd", "1e5", {}, "decimal"),
    ("customs_value_usd", "$100", {}, "decimal"),
    ("customs_value_usd", "12345678901234567.00", {}, "decimal"),  # 17 digits > Decimal(18,2)
    ("customs_value_usd", "", {}, "not_empty"),
    # fits DECIMAL(18,2) but would overflow any sum with a second line (issue 15, item 4)
    ("customs_value_usd", "9999999999999999.99", {}, "le_max"),
    ("customs_value_usd", "1000000000000.01", {}, "le_max"),  # 10^12 + 1 cent
    ("declared_duty_usd", "1000000000000.01", {}, "le_max"),
    ("quantity", "1000000000000.5", {}, "le_max"),
    ("quantity", "-2", {}, "ge_0"),
    ("quantity", "1,000", {}, "thousands_separator"),
    ("quantity", "0.12345678901", {}, "max_10_decimals"),
    ("quantity", "", {}, "not_empty"),
    ("quantity_unit", "", {}, "not_empty"),
    # 7005.29.08 is 18.7 cents/m2 (rate type 1, quantity_1_code M2)
    ("quantity_unit", "KG", {"hts_code": "7005290810"}, "quantity_unit_matches_rate"),
    # 7004.90.25 is 0.7 cents/kg (rate type 2: quantity_2_code KG, not quantity_1_code M2)
    ("quantity_unit", "M2", {"hts_code": "7004902500"}, "quantity_unit_matches_rate"),
    ("transport_mode", "boat", {}, "transport_mode_allowed"),
    ("transport_mode", "", {}, "not_empty"),
    ("port_code", "270", {}, "port_code_4_digits"),
    ("port_code", "27O4", {}, "port_code_4_digits"),
    ("importer_id", "   ", {}, "not_empty"),
    ("declared_duty_usd", "-5", {}, "ge_0"),
    ("declared_duty_usd", "1,500.00", {}, "thousands_separator"),
    ("steel_content_value_usd", "1.001", {}, "max_2_decimals"),
    ("aluminum_content_value_usd", "abc", {}, "decimal"),
]


def test_each_bad_value_lands_in_rejects_with_row_column_check_value(tmp_path, schedule):
    rows = [dict(GOOD_ROW, entry_number=_entry(0))]  # row 1 stays good
    for i, (column, value, others, _) in enumerate(BAD_VALUES, start=1):
        rows.append({**GOOD_ROW, "entry_number": _entry(i), **others, column: value})
    path = write_rows(tmp_path / "bad.csv", rows)

    result = load_customs_lines(path, None, schedule)

    got = result.rejects.select("row_number", "column", "check", "value").rows()
    expected = [
        (i + 1, column, check, value if value != "" else None)
        for i, (column, value, _, check) in enumerate(BAD_VALUES, start=1)
    ]
    assert sorted(got, key=lambda r: r[0]) == expected
    assert result.rejects["source"].unique().to_list() == [str(path)]
    assert result.stg["source_row"].to_list() == [1]
    assert result.rows_in == len(BAD_VALUES) + 1


def test_trailing_zeros_do_not_count_as_decimals_and_empty_optionals_are_null(tmp_path, schedule):
    row = dict(GOOD_ROW, customs_value_usd="100.500", quantity="2.50000000000000")
    result = load_customs_lines(write_rows(tmp_path / "z.csv", [row]), None, schedule)
    assert result.rejects.height == 0
    assert result.stg["customs_value_usd"].to_list() == [Decimal("100.50")]
    assert result.stg["quantity"].to_list() == [Decimal("2.5")]
    assert result.stg["steel_content_value_usd"].to_list() == [None]


def test_row_with_two_problems_gives_two_rejects_and_one_rejected_row(tmp_path, schedule):
    row = dict(GOOD_ROW, customs_value_usd="-1.234", port_code="x")
    result = load_customs_lines(write_rows(tmp_path / "two.csv", [row]), None, schedule)
    assert result.rejects.select("row_number", "column", "check").rows() == [
        (1, "customs_value_usd", "ge_0"),
        (1, "customs_value_usd", "max_2_decimals"),
        (1, "port_code", "port_code_4_digits"),
    ]
    assert result.rows_rejected == 1
    assert result.stg.height == 0
    assert result.rows_in == 1


def test_duplicate_keys_reject_every_copy(tmp_path, schedule):
    rows = [
        dict(GOOD_ROW, entry_number="ABC-1234567-8", line_number="1"),
        dict(GOOD_ROW, entry_number="ABC-1234567-8", line_number="2"),
        # the same key as rows 1 and 4, written differently
        dict(GOOD_ROW, entry_number="abc12345678", line_number="01"),
        dict(GOOD_ROW, entry_number="ABC12345678", line_number="1"),
    ]
    result = load_customs_lines(write_rows(tmp_path / "dup.csv", rows), None, schedule)
    assert result.rejects.select("row_number", "column", "check", "value").rows() == [
        (1, "entry_number,line_number", "grain_unique", "ABC-1234567-8,1"),
        (3, "entry_number,line_number", "grain_unique", "abc12345678,01"),
        (4, "entry_number,line_number", "grain_unique", "ABC12345678,1"),
    ]
    assert result.stg.select("entry_number", "line_number").rows() == [("ABC12345678", 2)]


def test_entry_level_rules_reject_every_line_of_a_mixed_entry(tmp_path, schedule):
    rows = [
        # entry ABC: two dates
        dict(GOOD_ROW, entry_number="ABC12345678", line_number="1", entry_date="2025-10-15"),
        dict(GOOD_ROW, entry_number="ABC12345678", line_number="2", entry_date="2025-10-16"),
        # entry DEF: two importers
        dict(GOOD_ROW, entry_number="DEF12345678", line_number="1", importer_id="IMP-1"),
        dict(GOOD_ROW, entry_number="DEF12345678", line_number="2", importer_id="IMP-2"),
        # entry GHI: consistent
        dict(GOOD_ROW, entry_number="GHI12345678", line_number="1"),
        dict(GOOD_ROW, entry_number="GHI12345678", line_number="2"),
    ]
    result = load_customs_lines(write_rows(tmp_path / "mixed.csv", rows), None, schedule)
    assert result.rejects.select("row_number", "column", "check").rows() == [
        (1, "entry_date", "entry_single_date"),
        (2, "entry_date", "entry_single_date"),
        (3, "importer_id", "entry_single_importer"),
        (4, "importer_id", "entry_single_importer"),
    ]
    assert result.stg["source_row"].to_list() == [5, 6]


def test_missing_optional_columns_stage_as_null(tmp_path, schedule):
    required = [c for c in COLUMNS if not c.endswith(("duty_usd", "content_value_usd"))]
    path = write_rows(tmp_path / "req.csv", [GOOD_ROW], columns=required)
    result = load_customs_lines(path, None, schedule)
    assert result.stg.columns == list(STG_SCHEMA)
    optional = result.stg.select("declared_duty_usd", "steel_content_value_usd")
    assert optional.rows() == [(None, None)]


def test_parquet_input_with_typed_columns(tmp_path, schedule):
    """A Parquet file with real types is read as text first, then parsed the same way."""
    frame = pl.DataFrame(
        {
            "entry_number": ["ABC12345678", "ABC12345678"],
            "line_number": [1, 2],
            "entry_date": [dt.date(2025, 10, 15), dt.date(2025, 10, 15)],
            "hts_code": ["8703230190", "8703230190"],
            "country_of_origin": ["JP", "JP"],
            "customs_value_usd": [Decimal("30000.00"), Decimal("-5.00")],
            "quantity": [1.0, 1.0],
            "quantity_unit": ["NO", "NO"],
            "transport_mode": ["vessel", "vessel"],
            "port_code": ["2704", "2704"],
            "importer_id": ["IMP-001", "IMP-001"],
        },
        schema_overrides={"customs_value_usd": pl.Decimal(18, 2)},
    )
    path = tmp_path / "lines.data"  # no extension: recognised by the PAR1 magic
    frame.write_parquet(path)

    result = load_customs_lines(path, "2025-10", schedule)
    assert result.stg.select("entry_number", "line_number", "customs_value_usd").rows() == [
        ("ABC12345678", 1, Decimal("30000.00"))
    ]
    assert result.rejects.select("row_number", "column", "check", "value").rows() == [
        (2, "customs_value_usd", "ge_0", "-5.00")
    ]
    assert result.rows_in == 2
    assert dict(result.stg.schema) == STG_SCHEMA


def test_checksum_is_sha256_of_the_file_bytes(good_csv, schedule):
    import hashlib

    expected = hashlib.sha256(Path(good_csv).read_bytes()).hexdigest()
    assert load_customs_lines(good_csv, "2025-10", schedule).checksum_sha256 == expected


@pytest.mark.parametrize("month", ["2025-13", "2025-1", "October"])
def test_malformed_month_is_a_value_error(good_csv, schedule, month):
    with pytest.raises(ValueError, match="YYYY-MM"):
        load_customs_lines(good_csv, month, schedule)


def test_extra_columns_are_ignored_even_one_named_source_row(tmp_path, schedule):
    columns = ["source_row", *COLUMNS, "remarks"]
    row = dict(GOOD_ROW, source_row="77", remarks="anything, really")
    result = load_customs_lines(write_rows(tmp_path / "x.csv", [row], columns), None, schedule)
    assert result.rejects.height == 0
    assert result.stg["source_row"].to_list() == [1]
    assert result.stg.columns == list(STG_SCHEMA)


def test_with_the_shipped_default_schedule(tmp_path, good_csv):
    """The real MFN table (flows.inputs.schedule) gives the same verdicts as the hand-built one:
    7005.29.08 is 18.7 cents/m2, so a quantity in KG is refused."""
    from flows.inputs.schedule import read_schedule

    schedule = read_schedule()
    assert load_customs_lines(good_csv, None, schedule).rejects.height == 0
    row = dict(GOOD_ROW, hts_code="7005.29.08.10", quantity_unit="KG")
    result = load_customs_lines(write_rows(tmp_path / "kg.csv", [row]), None, schedule)
    assert result.rejects.select("column", "check", "value").rows() == [
        ("quantity_unit", "quantity_unit_matches_rate", "KG")
    ]


@pytest.mark.parametrize("lines", [[1, 1, 1, 1, 2], [2, 1, 1, 1, 2]], ids=["repeated", "out_of_order"])
def test_stg_schema_refuses_repeated_or_unordered_lines(good_csv, schedule, lines):
    import pandera.polars as pa

    staged = load_customs_lines(good_csv, None, schedule).stg
    StgCustomsLines.validate(staged)
    broken = staged.with_columns(pl.Series("line_number", lines, dtype=pl.Int64))
    with pytest.raises(pa.errors.SchemaError, match="lines_strictly_increasing"):
        StgCustomsLines.validate(broken)


def test_lines_are_staged_in_line_order_whatever_the_file_order(tmp_path, schedule):
    """The staged lines are sorted by entry number then line number (rows that do not parse
    are rejected whatever their place); rejects keep naming the file's rows."""
    rows = [
        dict(GOOD_ROW, entry_number="XYZ-9876543-2", line_number="2"),
        dict(GOOD_ROW, entry_number="abc-1234567-8", line_number="10"),
        dict(GOOD_ROW, entry_number="XYZ98765432", line_number="1"),
        dict(GOOD_ROW, entry_number="ABC12345678", line_number="9"),
        dict(GOOD_ROW, entry_number="ABC12345678", line_number="x"),
    ]
    result = load_customs_lines(write_rows(tmp_path / "shuffled.csv", rows), None, schedule)
    assert result.stg.select("entry_number", "line_number", "source_row").rows() == [
        ("ABC12345678", 9, 4), ("ABC12345678", 10, 2), ("XYZ98765432", 1, 3), ("XYZ98765432", 2, 1),
    ]
    assert result.rejects.select("row_number", "column", "check").rows() == [(5, "line_number", "integer")]
    StgCustomsLines.validate(result.stg)


def test_values_at_the_bounds_stage(tmp_path, schedule):
    # 10^12 USD and 10^12 units exactly are the largest accepted values of a line
    path = write_rows(tmp_path / "edge.csv", [dict(GOOD_ROW, customs_value_usd="1000000000000.00",
                                                   quantity="1000000000000", declared_duty_usd="1000000000000")])
    result = load_customs_lines(path, None, schedule)
    assert result.rejects.height == 0
    assert result.stg["customs_value_usd"].to_list() == [Decimal("1000000000000.00")]


def test_a_month_above_the_month_total_bound_is_refused_naming_file_and_month(tmp_path, schedule):
    # 101 lines of 10^12 USD each: every line is within its bound, the month's value
    # (1.01 x 10^14) is above the 10^14 that keeps every aggregate within DECIMAL(18,2)
    rows = [dict(GOOD_ROW, entry_number=_entry(i), customs_value_usd="1000000000000.00") for i in range(101)]
    path = write_rows(tmp_path / "huge.csv", rows)
    with pytest.raises(InputSchemaError) as raised:
        load_customs_lines(path, "2025-10", schedule)
    assert raised.value.check == "month_total"
    assert str(raised.value).startswith(f"{path}: 2025-10: the 101 rows' customs_value_usd add up to "
                                        "101,000,000,000,000, above the per-month limit of 100,000,000,000,000")


def test_parts_of_whole_entries_stage_as_one_part(tmp_path, schedule):
    """Rows parsed and checked a part at a time (parts of whole entries, in line order) give
    what one part gives: the entry rules (repeated lines, several dates or importers in an
    entry) see every line of the entry, the rejects keep the file's row order."""
    import transforms.stg_customs_lines as stg

    def row(entry, line, **changes):
        return dict(GOOD_ROW, entry_number=entry, line_number=str(line), **changes)

    rows = [
        row("ZZZ-0000009-1", 2), row("ABC-1234567-8", 3), row("MMM-0000005-5", 1, entry_date="2025-10-16"),
        row("ZZZ-0000009-1", 1), row("abc-1234567-8", 1), row("MMM-0000005-5", 2),
        row("ABC12345678", 2, customs_value_usd="1,000.00"), row("DDD-0000004-4", 1), row("DDD-0000004-4", 1),
        row("", 1), row("EEE-0000003-3", 1, importer_id="IMP-009"), row("EEE-0000003-3", 2),
        row("FFF-0000002-2", "x"), row("FFF-0000002-2", 2),
    ]
    path = write_rows(tmp_path / "entries.csv", rows)
    whole = load_customs_lines(path, "2025-10", schedule)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stg, "STAGING_PART_ROWS", 2)
        parts = load_customs_lines(path, "2025-10", schedule)
    assert parts.stg.equals(whole.stg)
    assert parts.rejects.equals(whole.rejects)
    assert parts.rows_in == whole.rows_in == len(rows)
    assert whole.stg.select("entry_number", "line_number").rows() == [
        ("ABC12345678", 1), ("ABC12345678", 3), ("FFF00000022", 2), ("ZZZ00000091", 1), ("ZZZ00000091", 2),
    ]
    assert sorted(set(whole.rejects["check"])) == [
        "entry_single_date", "entry_single_importer", "grain_unique", "integer", "not_empty", "thousands_separator",
    ]
    assert max(parts.stg.n_chunks("all")) == 1


@pytest.mark.parametrize("in_line_order", [True, False])
def test_a_file_read_in_row_groups_is_parted_as_read_whole(tmp_path, schedule, in_line_order):
    """A Parquet file's rows arrive in its row groups and are cut into parts without being
    copied into one piece first (slices, in line order; else gathered a few columns at a
    time): the staged lines and rejects are those of the file read in one part, and the
    staged columns are each in one piece."""
    import transforms.stg_customs_lines as stg

    def row(entry, line, **changes):
        return dict(GOOD_ROW, entry_number=entry, line_number=str(line), **changes)

    rows = [row(f"ABC-{n:07d}-1", line) for n in range(1, 12) for line in (1, 2, 3)]
    rows[4] = dict(rows[4], customs_value_usd="1,000.00")  # a reject in the middle
    rows.insert(14, row("ABC-0000005-1", 2))  # a repeated line, beside its twin: both rejected
    if not in_line_order:
        rows = rows[1::2] + rows[::2]
    path = tmp_path / "lines.parquet"
    pl.DataFrame(rows).write_parquet(path, row_group_size=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stg, "STAGING_PART_ROWS", 1 << 30)
        whole = load_customs_lines(path, "2025-10", schedule)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stg, "STAGING_PART_ROWS", 5)
        patch.setattr(stg, "_GATHERED_TOGETHER", 3)
        parts = load_customs_lines(path, "2025-10", schedule)
    assert whole.stg.height == 31 and set(whole.rejects["check"]) == {"thousands_separator", "grain_unique"}
    assert parts.stg.equals(whole.stg)
    assert parts.rejects.equals(whole.rejects)
    assert max(parts.stg.n_chunks("all")) == 1


def test_entry_facts_in_line_order_equal_the_general_ones(tmp_path, schedule):
    """The entry facts of lines in line order (neighbours compared, runs of one entry grouped)
    equal those of the same lines shuffled (window and group-by over entry numbers)."""
    from flows.inputs.files import scan_text_table
    from transforms.stg_customs_lines import in_line_order_parts, parse_customs_lines

    def row(entry, line, **changes):
        return dict(GOOD_ROW, entry_number=entry, line_number=str(line), **changes)

    rows = [
        row("AAA-0000001-1", 1), row("AAA-0000001-1", 1), row("AAA-0000001-1", 2, entry_date="2025-10-16"),
        row("BBB-0000002-2", 1, importer_id="IMP-002"), row("BBB-0000002-2", 2), row("BBB-0000002-2", 2),
        row("CCC-0000003-3", 1, entry_date="not a date"), row("CCC-0000003-3", 2), row("DDD-0000004-4", 1),
        row("EEE-0000005-5", 3, importer_id=""), row("EEE-0000005-5", 4),
    ]
    path = write_rows(tmp_path / "facts.csv", rows)
    lazy, _ = scan_text_table(path, COLUMNS, (), str(path))
    raw = lazy.collect()
    facts = ["_entry_number", "_line_number", "_line_repeated", "_entry_first_date", "_entry_last_date", "_entry_importers"]
    ordered = pl.concat(list(in_line_order_parts(raw)))
    in_order = parse_customs_lines(ordered, schedule.mfn).select(facts)
    shuffled = parse_customs_lines(ordered.reverse(), schedule.mfn).select(facts).reverse()
    assert in_order.equals(shuffled)
    assert in_order["_line_repeated"].to_list() == [True, True, False, False, True, True, False, False, False, False, False]
    assert in_order["_entry_importers"].to_list() == [1] * 3 + [2] * 3 + [None] * 5  # AAA: two dates


@pytest.mark.parametrize(
    "entries",
    [
        ["B", "B", "A", "C", "C", "C"],  # each entry's lines together: the entries are sorted
        ["B", "A", "B", "C", "A", "C"],  # interleaved: the lines are sorted
        ["B", "B", None, "A", "A", None],  # an entry number that does not parse
    ],
)
def test_line_order_sorts_entries_or_lines(entries):
    from transforms.stg_customs_lines import _line_order

    lines = [1, 2, 1, 1, 2, 3] if entries[1] == "B" else [1, 1, 2, 1, 2, 2]
    keys = pl.DataFrame({"entry": entries, "line": lines, "row": list(range(1, 7))},
                        schema={"entry": pl.Utf8, "line": pl.Int64, "row": pl.Int64})
    expected = keys.with_row_index("i").sort("entry", "line", nulls_last=False, maintain_order=True)["i"]
    assert _line_order(keys).cast(pl.UInt32).to_list() == expected.to_list()


def test_raw_contract_checks_the_named_columns():
    # the column names live in transforms/customs_columns.py; the raw contract checks exactly them
    from schemas.raw_customs_lines import RawCustomsLines
    from transforms.customs_columns import OPTIONAL_COLUMNS, OPTIONAL_TEXT_COLUMNS, REQUIRED_COLUMNS
    from transforms.stg_customs_lines import STG_COLUMNS

    fields = list(RawCustomsLines.to_schema().columns)
    assert fields == ["source_row", *REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, *OPTIONAL_TEXT_COLUMNS]
    # and the staged table's columns are derived from them
    assert list(StgCustomsLines.to_schema().columns) == list(STG_COLUMNS)
