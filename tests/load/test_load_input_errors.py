"""Schema-level problems refuse the whole file with an InputSchemaError naming file and
problem; harmless encodings of a good file (BOM, CRLF) load like the original."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import COLUMNS, GOOD_ROW, HEADER, write_rows

from flows.inputs.customs import load_customs_lines
from flows.inputs.files import InputSchemaError

GOOD_LINE = ",".join(GOOD_ROW[c] for c in COLUMNS)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _schema_error(path: Path, schedule, month: str | None = None) -> InputSchemaError:
    with pytest.raises(InputSchemaError) as raised:
        load_customs_lines(path, month, schedule)
    assert str(raised.value).startswith(f"{path}: ")
    return raised.value


def test_utf8_bom_is_stripped(tmp_path, good_csv, schedule):
    plain = load_customs_lines(good_csv, None, schedule)
    path = _write(tmp_path / "bom.csv", b"\xef\xbb\xbf" + Path(good_csv).read_bytes())
    with_bom = load_customs_lines(path, None, schedule)
    assert with_bom.stg.equals(plain.stg)
    assert with_bom.rejects.height == 0


def test_crlf_line_ends_load_like_lf(tmp_path, good_csv, schedule):
    plain = load_customs_lines(good_csv, None, schedule)
    data = Path(good_csv).read_bytes().replace(b"\n", b"\r\n")
    crlf = load_customs_lines(_write(tmp_path / "crlf.csv", data), None, schedule)
    assert crlf.stg.equals(plain.stg)


def test_semicolon_delimiter_is_named(tmp_path, schedule):
    text = HEADER.replace(",", ";") + "\n" + GOOD_LINE.replace(",", ";") + "\n"
    error = _schema_error(_write(tmp_path / "semi.csv", text.encode()), schedule)
    assert error.check == "delimiter"
    assert "delimiter looks like ';'" in str(error)


def test_tab_delimiter_is_named(tmp_path, schedule):
    text = HEADER.replace(",", "\t") + "\n" + GOOD_LINE.replace(",", "\t") + "\n"
    error = _schema_error(_write(tmp_path / "tab.tsv", text.encode()), schedule)
    assert "delimiter looks like tab" in str(error)


def test_latin1_bytes_name_the_byte_offset_and_line(tmp_path, schedule):
    line = GOOD_LINE.replace("IMP-001", "IMP-É").encode("latin-1")  # É is 0xC9 in Latin-1
    data = HEADER.encode() + b"\n" + GOOD_LINE.encode() + b"\n" + line + b"\n"
    offset = data.index(b"\xc9")
    error = _schema_error(_write(tmp_path / "latin1.csv", data), schedule)
    assert error.check == "not_utf8"
    assert f"byte 0xc9 at byte offset {offset} (line 3)" in str(error)


def test_bad_byte_beyond_the_first_chunk_reports_its_absolute_offset(
    tmp_path, schedule, monkeypatch
):
    monkeypatch.setattr("flows.inputs.files.CHUNK_BYTES", 64)  # force several chunks on a tiny file
    # "é" in UTF-8 is C3 A9; split across a chunk boundary it must still decode.
    good = (GOOD_LINE.replace("IMP-001", "IMP-é") + "\n").encode() * 4
    data = HEADER.encode() + b"\n" + good + b"\xff\n"
    error = _schema_error(_write(tmp_path / "late.csv", data), schedule)
    assert f"byte 0xff at byte offset {len(data) - 2} (line 6)" in str(error)


def test_utf8_split_across_chunks_is_accepted(tmp_path, schedule, monkeypatch):
    monkeypatch.setattr("flows.inputs.files.CHUNK_BYTES", 7)
    rows = [dict(GOOD_ROW, importer_id="IMPÉÉÉÉ-日本")]
    result = load_customs_lines(write_rows(tmp_path / "u.csv", rows), None, schedule)
    assert result.stg["importer_id"].to_list() == ["IMPÉÉÉÉ-日本"]


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n"])
def test_empty_file(tmp_path, schedule, data):
    error = _schema_error(_write(tmp_path / "empty.csv", data), schedule)
    assert error.check == "no_data_rows"
    assert "no data rows" in str(error)


@pytest.mark.parametrize("data", [HEADER.encode(), HEADER.encode() + b"\n"])
def test_header_only(tmp_path, schedule, data):
    error = _schema_error(_write(tmp_path / "header.csv", data), schedule)
    assert "no data rows" in str(error)


def test_missing_columns_are_listed(tmp_path, schedule):
    columns = [c for c in COLUMNS if c not in ("hts_code", "port_code")]
    error = _schema_error(write_rows(tmp_path / "miss.csv", [GOOD_ROW], columns), schedule)
    assert error.check == "missing_columns"
    assert "missing required columns: hts_code, port_code" in str(error)


def test_repeated_contract_column(tmp_path, schedule):
    data = (HEADER + ",hts_code\n" + GOOD_LINE + ",8703230190\n").encode()
    error = _schema_error(_write(tmp_path / "rep.csv", data), schedule)
    assert "more than once: hts_code" in str(error)


def test_row_with_more_fields_than_the_header(tmp_path, schedule):
    data = (HEADER + "\n" + GOOD_LINE + ",surplus\n").encode()
    error = _schema_error(_write(tmp_path / "ragged.csv", data), schedule)
    assert "more fields than the header" in str(error)


def test_a_long_row_far_into_the_file_is_named_by_its_row_and_line(tmp_path, schedule):
    # 120 good rows, the 101st (line 102: the header is line 1) with one field too many:
    # Polars' error names no position, and it used to be reported as "the first data row"
    lines = [HEADER, *(
        ",".join({**GOOD_ROW, "line_number": str(n)}[c] for c in COLUMNS) + (",surplus" if n == 101 else "")
        for n in range(1, 121)
    )]
    error = _schema_error(_write(tmp_path / "long.csv", ("\n".join(lines) + "\n").encode()), schedule)
    assert "data row 101 (line 102) has 15 fields, the header has 14" in str(error)
    assert "first data row" not in str(error)


def test_missing_file(tmp_path, schedule):
    error = _schema_error(tmp_path / "nope.csv", schedule)
    assert error.check == "not_found"


def test_parquet_missing_column_and_no_rows(tmp_path, schedule):
    frame = pl.DataFrame({c: [GOOD_ROW[c]] for c in COLUMNS if c != "quantity"})
    frame.write_parquet(tmp_path / "miss.parquet")
    error = _schema_error(tmp_path / "miss.parquet", schedule)
    assert "missing required columns: quantity" in str(error)

    pl.DataFrame(schema={c: pl.Utf8 for c in COLUMNS}).write_parquet(tmp_path / "none.parquet")
    assert "no data rows" in str(_schema_error(tmp_path / "none.parquet", schedule))


def test_corrupt_parquet(tmp_path, schedule):
    error = _schema_error(_write(tmp_path / "bad.parquet", b"PAR1 not really"), schedule)
    assert error.check == "unreadable"
