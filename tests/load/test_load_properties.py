"""Property: spoiling random cells of a good file never makes the loader raise anything but
InputSchemaError, and every row read is either staged or rejected, never both."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from conftest import COLUMNS, FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.inputs.customs import load_customs_lines
from flows.inputs.files import InputSchemaError

GOOD = pl.read_csv(FIXTURES / "customs_good.csv", infer_schema=False).select(COLUMNS)

NASTY = st.sampled_from(
    [
        "", " ", "0", "-0", "-1", "1.005", "1e3", "30,000.00", "NaN", "inf", "null", "NULL",
        "10/15/2025", "2025-02-29", "2024-02-29", "2025-10-15T00:00:00", "9999-12-31",
        "ABC-1234567-8", "abc12345678", "8703.23.01.90", "9999999999", "87032301",
        "JP", "jp", "XX", "NO", "KG", "M2", "vessel", "VESSEL", "2704", "IMP-001",
        "99999999999999999999999999999999999999", '"', '""', "a,b", "line\nbreak", "\t",
        "\u00e9", "\ufeff", "日本", "1", "2", "01",
    ]
)
CELL_TEXT = st.one_of(NASTY, st.text(max_size=12))


@st.composite
def spoiled_files(draw) -> pl.DataFrame:
    rows = draw(st.integers(min_value=1, max_value=3))
    frame = pl.concat([GOOD] * rows)  # copies also create duplicate keys
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        row = draw(st.integers(min_value=0, max_value=frame.height - 1))
        column = draw(st.sampled_from(COLUMNS))
        value = draw(CELL_TEXT)
        frame = frame.with_columns(
            pl.when(pl.int_range(pl.len()) == row)
            .then(pl.lit(value, dtype=pl.Utf8))
            .otherwise(pl.col(column))
            .alias(column)
        )
    return frame


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(frame=spoiled_files(), month=st.sampled_from([None, "2025-10", "2025-11"]))
def test_spoiled_cells_are_rejected_or_refused_never_crash(tmp_path, schedule, frame, month):
    path: Path = tmp_path / "spoiled.csv"
    frame.write_csv(path)
    try:
        result = load_customs_lines(path, month, schedule)
    except InputSchemaError:
        return
    staged = set(result.stg["source_row"].to_list())
    rejected = set(result.rejects["row_number"].to_list())
    assert not staged & rejected
    assert result.rows_in == result.stg.height + result.rows_rejected
    if month is None:
        assert staged | rejected == set(range(1, result.rows_in + 1))
    else:
        assert set(result.stg["month"].to_list()) <= {month}
