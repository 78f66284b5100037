"""Customs column maps: the map's own contract (schemas/customs_map.py), applying a map to an
all-text export and folding ES-003 line-tariff rows (transforms/customs_map.py): golden rows
small enough to read, and a hypothesis property of the fold."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.customs_map import CustomsMapError, parse_customs_map
from transforms.customs_map import apply_customs_map, fold_line_tariff_rows, without_rows

COLUMNS = {
    "entry_number": "E", "line_number": "L", "entry_date": "D", "hts_code": "H",
    "country_of_origin": "C", "customs_value_usd": "V", "quantity": "Q", "quantity_unit": "U",
    "transport_mode": "M", "port_code": "P", "importer_id": "I",
}


def es003_map(**changes) -> dict:
    data = {
        "layout": "line_tariff_rows",
        "date_format": "%m/%d/%Y",
        "columns": COLUMNS | {"declared_duty_usd": "T"},
        "numbers": {"thousands_separator": ",", "currency_symbols": ["$"]},
        "values": {"transport_mode": {"11": "vessel", "40": "air"}},
    }
    data.update(changes)
    return data


def raw(rows: list[dict]) -> pl.DataFrame:
    base = {"E": "ABC12345678", "L": "1", "D": "10/3/2025", "H": "8703.23.01.90", "C": "JP", "V": "",
            "Q": "", "U": "", "M": "11", "P": "2704", "I": "IMP-1", "T": ""}
    frame = pl.DataFrame([base | r for r in rows], schema={k: pl.Utf8 for k in base})
    return frame.with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))


# ----------------------------------------------------------------------------- the map's contract


@pytest.mark.parametrize(
    ("change", "key", "value", "words"),
    [
        ({"columns": COLUMNS | {"declared_duty_usd": "T", "duty_paid": "X"}}, "columns.duty_paid", "X", "not a contract input column"),
        ({"date_format": "DD/MM/YYYY"}, "date_format", "DD/MM/YYYY", "needs a year"),
        ({"date_format": "%m/%d/%Y %Q"}, "date_format", "%m/%d/%Y %Q", "not a usable date format"),
        ({"layout": "rows"}, "layout", "rows", "must be one of lines, line_tariff_rows"),
        ({"columns": dict(COLUMNS)}, "columns.declared_duty_usd", None, "required contract column not mapped"),
        ({"values": {"transport_mode": {"11": "boat"}}}, "values.transport_mode.11", "boat", "must be one of vessel"),
        ({"values": {"country_of_origin": {"JAPAN": "Japan"}}}, "values.country_of_origin.JAPAN", "Japan", "alpha-2"),
        ({"numbers": {"thousands_separator": ";"}}, "numbers.thousands_separator", ";", "must be one of"),
        ({"numbers": {"thousands_separator": ",", "decimal_separator": ","}}, "numbers.decimal_separator", ",", "must differ"),
        ({"colums": {}}, "colums", {}, "unknown key"),
        ({"columns": COLUMNS | {"declared_duty_usd": "T", "declared_headings": "X"}}, "columns.declared_headings", "X", "built from the chapter 98/99 rows"),
    ],
)
def test_a_bad_map_names_the_map_key_and_value(change, key, value, words):
    with pytest.raises(CustomsMapError) as raised:
        parse_customs_map(es003_map(**change), "broker.toml")
    error = raised.value
    assert (error.map_name, error.key, error.value) == ("broker.toml", key, value)
    assert str(error).startswith(f"customs map broker.toml: {key} = ")
    assert words in str(error)


def test_a_header_mapped_twice_is_refused():
    with pytest.raises(CustomsMapError, match=r"columns.line_number = 'E': header already mapped to entry_number"):
        parse_customs_map(es003_map(columns=COLUMNS | {"line_number": "E", "declared_duty_usd": "T"}), "m")


# ----------------------------------------------------------------------------- applying a map


def test_apply_rewrites_dates_numbers_and_codes_and_keeps_what_does_not_fit():
    cmap = parse_customs_map(es003_map(), "m")
    frame = raw([
        {"V": "$30,000.00", "Q": "1,648", "T": "3,750.00", "D": "1/5/2025"},
        {"V": "1234.5", "M": "40", "T": "$ 12.00", "D": "10/31/2025"},
        # kept as written: a malformed grouping and an unknown mode (the contract rejects them)
        {"V": "30,00.00", "M": "99", "D": "10/3/2025"},
    ])
    mapped, rejects = apply_customs_map(frame, cmap, "f.csv")
    assert rejects.height == 0
    assert mapped.select("entry_date", "customs_value_usd", "quantity", "transport_mode", "declared_duty_usd").rows() == [
        ("2025-01-05", "30000.00", "1648", "vessel", "3750.00"),
        ("2025-10-31", "1234.5", "", "air", "12.00"),
        ("2025-10-03", "30,00.00", "", "99", ""),
    ]


def test_a_date_not_in_the_maps_format_is_rejected_naming_the_map():
    cmap = parse_customs_map(es003_map(), "ace_es003")
    mapped, rejects = apply_customs_map(raw([{}, {"D": "2025-10-03"}, {"D": "13/45/2025"}]), cmap, "f.csv")
    assert without_rows(mapped, rejects)["source_row"].to_list() == [1]
    assert rejects.select("row_number", "column", "check", "value").rows() == [
        (2, "entry_date", "date_format", "2025-10-03"),
        (3, "entry_date", "date_format", "13/45/2025"),
    ]
    assert "customs map ace_es003" in rejects["message"][0] and "'%m/%d/%Y'" in rejects["message"][0]


def test_decimal_comma_numbers():
    cmap = parse_customs_map(
        es003_map(numbers={"thousands_separator": ".", "decimal_separator": ",", "currency_symbols": ["USD"]}), "m"
    )
    mapped, _ = apply_customs_map(raw([{"V": "30.000,50 USD", "T": "-1.234,00"}]), cmap, "f.csv")
    assert mapped.select("customs_value_usd", "declared_duty_usd").row(0) == ("30000.50", "-1234.00")


# ----------------------------------------------------------------------------- the ES-003 fold


def fold(rows: list[dict]):
    cmap = parse_customs_map(es003_map(), "m")
    mapped, date_rejects = apply_customs_map(raw(rows), cmap, "f.csv")
    return fold_line_tariff_rows(mapped, "f.csv", date_rejects["row_number"])


def test_a_line_and_its_chapter_99_rows_fold_into_one_contract_line():
    # the Japan deal on a $30,000 car: MFN 2.5% = 750.00 on the line's row, 9903.94.41 adds
    # 3,750.00 and its companion 9903.94.40 0.00: declared 750.00 + 3,750.00 + 0.00 = 4,500.00
    lines, rejects = fold([
        {"V": "30,000.00", "Q": "1", "U": "NO", "T": "750.00"},
        {"H": "9903.94.41", "T": "3,750.00"},
        {"H": "9903.94.40", "T": "0.00"},
        {"L": "2", "H": "8708.99.68.90", "V": "1,000.00", "Q": "4", "U": "NO", "T": "25.00"},
    ])
    assert rejects.height == 0
    assert lines.select(
        "source_row", "line_number", "hts_code", "customs_value_usd", "declared_headings",
        "declared_heading_duties_usd", "declared_duty_usd",
    ).rows() == [
        (1, "1", "8703.23.01.90", "30000.00", "9903.94.41;9903.94.40", "3750.00;0.00", "4500.0000000000"),
        (4, "2", "8708.99.68.90", "1000.00", None, None, "25.0000000000"),
    ]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # only a chapter 99 row: no primary row
        ([{"H": "9903.94.05", "T": "10.00"}, {"H": "9903.01.25", "T": "5.00"}],
         [(1, "hts_code", "line_no_primary_row"), (2, "hts_code", "line_no_primary_row")]),
        # the line's row twice
        ([{"T": "1.00"}, {"T": "1.00"}, {"H": "9903.94.41", "T": "2.00"}],
         [(1, "hts_code", "line_several_primary_rows"), (2, "hts_code", "line_several_primary_rows"),
          (3, "hts_code", "line_several_primary_rows")]),
        # the chapter 99 row at another port
        ([{"T": "1.00"}, {"H": "9903.94.41", "P": "2709", "T": "2.00"}],
         [(1, "port_code", "line_rows_disagree"), (2, "port_code", "line_rows_disagree")]),
        # the chapter 99 row's date not in the map's format: the whole line goes
        ([{"T": "1.00"}, {"H": "9903.94.41", "D": "2025-10-03", "T": "2.00"}],
         [(1, "entry_number,line_number", "line_has_rejected_row"), (2, "entry_date", "date_format")]),
    ],
)
def test_a_line_that_does_not_fold_is_rejected_with_every_row_named(rows, expected):
    lines, rejects = fold(rows)
    if expected[-1][2] == "date_format":  # (the date reject comes from the mapping step)
        cmap = parse_customs_map(es003_map(), "m")
        _, date_rejects = apply_customs_map(raw(rows), cmap, "f.csv")
        rejects = pl.concat([rejects, date_rejects]).sort("row_number")
    assert lines.height == 0
    assert rejects.select("row_number", "column", "check").rows() == expected
    rows_named = ", ".join(str(r) for r in range(1, len(rows) + 1))
    assert f"(rows {rows_named})" in rejects["message"][0]


def test_a_heading_on_two_rows_is_declared_once_with_its_duties_summed():
    lines, _ = fold([
        {"T": "10.00"},
        {"H": "99039441", "T": "1,000.00"},
        {"H": "9903.01.25", "T": "5.00"},
        {"H": "9903.94.41", "T": "0.50"},
    ])
    assert lines.select("declared_headings", "declared_heading_duties_usd", "declared_duty_usd").row(0) == (
        "9903.94.41;9903.01.25", "1000.5000000000;5.00", "1015.5000000000",
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.decimals(min_value=0, max_value=10**6, places=2), min_size=1, max_size=4), min_size=1, max_size=6))
def test_fold_declared_duty_is_the_sum_of_the_lines_rows(lines_duties):
    """Property: every folded line's declared duty is the exact sum of its rows' duties, and
    its heading duties are the duties of its chapter 99 rows in file order."""
    rows = []
    for n, duties in enumerate(lines_duties, start=1):
        rows.append({"L": str(n), "T": f"{duties[0]:,.2f}"})
        rows += [{"L": str(n), "H": f"9903.94.{40 + i:02d}", "T": f"{d:,.2f}"} for i, d in enumerate(duties[1:])]
    lines, rejects = fold(rows)
    assert rejects.height == 0
    got = {int(r["line_number"]): r for r in lines.iter_rows(named=True)}
    for n, duties in enumerate(lines_duties, start=1):
        assert Decimal(got[n]["declared_duty_usd"]) == sum(duties)
        heading_duties = got[n]["declared_heading_duties_usd"]
        assert (heading_duties.split(";") if heading_duties else []) == [f"{d:.2f}" for d in duties[1:]]
