"""The `rejects` table: DDL, contract and the loader's rows with a run id attached."""

from __future__ import annotations

from importlib.resources import files

import duckdb
import pandera.errors
import polars as pl
import pytest
from conftest import GOOD_ROW, write_rows

from flows.inputs.customs import load_customs_lines
from schemas.rejects import LoadRejects, Rejects
from transforms.rejects import with_run_id


def test_loader_rejects_insert_into_the_ddl_table(tmp_path, schedule):
    rows = [dict(GOOD_ROW, port_code="x", country_of_origin="")]
    result = load_customs_lines(write_rows(tmp_path / "r.csv", rows), None, schedule)
    table = Rejects.validate(with_run_id(result.rejects, "run-1"))

    con = duckdb.connect()
    con.execute(files("sql").joinpath("rejects.sql").read_text())
    con.register("incoming", table.to_arrow())
    con.execute("INSERT INTO rejects SELECT * FROM incoming")
    stored = con.sql(
        'SELECT row_number, "column", "check", value, run_id FROM rejects ORDER BY "column"'
    ).pl()
    assert stored.rows() == [
        (1, "country_of_origin", "not_empty", None, "run-1"),
        (1, "port_code", "port_code_4_digits", "x", "run-1"),
    ]


def test_rejects_contract_refuses_duplicate_failures():
    frame = pl.DataFrame(
        {
            "source": ["f.csv", "f.csv"],
            "row_number": [3, 3],
            "column": ["hts_code", "hts_code"],
            "check": ["hts_10_digits", "hts_10_digits"],
            "value": ["1", "1"],
        }
    )
    with pytest.raises(pandera.errors.SchemaError):
        LoadRejects.validate(frame)
