"""The Census loader shares the file checks of every input (flows/inputs/files.py): a text file
must be UTF-8 (named byte offset and line), the checksum is the file's SHA-256, and the staged
rows meet schemas/stg_census_lines.py."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest

from flows.config import REFERENCE_DIR
from flows.inputs.census import CensusInputError, load_census, validate_census_file
from flows.inputs.files import InputSchemaError
from schemas.stg_census_lines import StgCensusLines

HEADER = "CTY_CODE,I_COMMODITY,time,CON_VAL_MO,CAL_DUT_MO\n"


def test_a_census_csv_that_is_not_utf8_is_refused_with_offset_and_line(tmp_path, schedule):
    path = tmp_path / "census.csv"
    path.write_bytes(HEADER.encode() + b"5880,8703230190,2025-06,1000.00,25.00\n58\xe980,8703230190,2025-06,1,0\n")
    with pytest.raises(InputSchemaError, match=r"not UTF-8 text: byte 0xe9 at byte offset 88 \(line 3\)") as error:
        load_census(path, "2025-06", schedule)
    assert error.value.check == "not_utf8"


def test_a_census_file_without_value_columns_is_refused_by_the_loader_and_by_validate(tmp_path, schedule):
    path = tmp_path / "census.csv"
    path.write_text("CTY_CODE,I_COMMODITY,time,CON_VAL_MO\n5880,8703230190,2025-06,1000.00\n")
    for read in (lambda: load_census(path, "2025-06", schedule), lambda: validate_census_file(path, schedule)):
        with pytest.raises(CensusInputError, match="needs CON_VAL_MO and CAL_DUT_MO") as error:
            read()
        assert error.value.check == "missing_columns"


def test_the_checksum_is_the_files_sha256_and_the_staged_rows_meet_their_contract(tmp_path, schedule):
    path = tmp_path / "census.csv"
    path.write_text(HEADER + "5880,8703230190,2025-06,1000.00,25.00\n5880,8708305090,2025-06,200.00,5.00\n")
    loaded = load_census(path, "2025-06", schedule)
    assert loaded.checksum_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.rows_in == 2
    StgCensusLines.validate(loaded.stg, lazy=True)
    assert loaded.stg.select("hts_code", "country_of_origin").rows() == [("8703230190", "JP"), ("8708305090", "JP")]


def test_the_contract_refuses_a_repeated_grain(schedule):
    staged = load_census(REFERENCE_DIR / "census" / "japan_2024_hs10_ch87.csv", None, schedule).stg
    doubled = pl.concat([staged.head(1), staged.head(1).with_columns(source_row=pl.lit(10**9, pl.Int64))])
    with pytest.raises(Exception, match="grain_is_unique"):
        StgCensusLines.validate(doubled, lazy=True)
