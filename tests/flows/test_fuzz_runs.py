"""Fuzzing whole runs (hypothesis): a mutated customs file either publishes its good rows with
the bad ones quarantined, or fails cleanly with a message and changes no byte of the warehouse
or the exports. Never a traceback, never a partial publish."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.config import SAMPLE_CUSTOMS
from flows.run.monthly import RunOptions, run_months
from flows.warehouse.journal import read_journal

MONTH = "2025-10"
COLUMNS = [
    "entry_number", "line_number", "entry_date", "hts_code", "country_of_origin",
    "customs_value_usd", "quantity", "quantity_unit", "transport_mode", "port_code",
    "importer_id", "declared_duty_usd",
]


@pytest.fixture(scope="module")
def clean_lines() -> list[list[str]]:
    """40 clean October lines of the embedded sample (whole entries), as text cells."""
    sample = pl.read_parquet(SAMPLE_CUSTOMS).filter(pl.col("entry_date").str.starts_with(MONTH))
    entries = sample.get_column("entry_number").unique(maintain_order=True).head(12)
    rows = sample.filter(pl.col("entry_number").is_in(entries.implode())).select(COLUMNS).fill_null("")
    return [list(r) for r in rows.head(40).iter_rows()]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, schedule, clean_lines) -> tuple[Path, Path]:
    """A warehouse and exports holding one published month (2025-09), the state every fuzzed
    run starts from."""
    root = tmp_path_factory.mktemp("baseline")
    csv = root / "september.csv"
    csv.write_text(",".join(COLUMNS) + "\n" + "\n".join(
        ",".join(r[:2] + ["2025-09-15"] + r[3:]) for r in clean_lines) + "\n")
    opts = RunOptions(db_path=root / "wh" / "w.duckdb", exports_dir=root / "exports", inputs={"customs": csv})
    [result] = run_months(["2025-09"], opts, schedule=schedule)
    assert result.status == "success", result.error
    return opts.db_path.parent, opts.exports_dir


def tree(root: Path) -> dict[str, str]:
    """Every file's hash, except the journal of attempts (a failed attempt is recorded there,
    outside the warehouse, by design)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith(".runs.jsonl")}


cell_values = st.sampled_from(
    ["", "-1", "1,000.00", "10/15/2025", "8703.23", "XX", "0", "99999999999999999999", "é", "NaN",
     "2025-02-30", "ABC-1234567-8", "vessel", "\"", "  ", "12.345"]
) | st.text(max_size=12)

mutation = st.one_of(
    st.tuples(st.just("cell"), st.integers(0, 39), st.integers(0, len(COLUMNS) - 1), cell_values),
    st.tuples(st.just("drop_column"), st.integers(0, len(COLUMNS) - 1)),
    st.tuples(st.just("duplicate_row"), st.integers(0, 39)),
    st.tuples(st.just("truncate"), st.integers(1, 4000)),
    st.tuples(st.just("bytes"), st.integers(0, 4000), st.binary(min_size=1, max_size=6)),
    st.tuples(st.just("delimiter"), st.sampled_from([";", "\t", "|"])),
    st.tuples(st.just("bom")),
)


def render(rows: list[list[str]], mutations) -> bytes:
    header, body = list(COLUMNS), [list(r) for r in rows]
    text_ops, byte_ops = [], []
    for m in mutations:
        (byte_ops if m[0] in ("truncate", "bytes", "bom") else text_ops).append(m)
    separator = ","
    for m in text_ops:
        if m[0] == "cell":
            row = body[m[1] % len(body)]
            row[m[2] % len(row)] = m[3]
        elif m[0] == "drop_column" and len(header) > 1:
            header.pop(m[1] % len(header))
            for r in body:
                r.pop(m[1] % (len(r)))
        elif m[0] == "duplicate_row":
            body.append(list(body[m[1] % len(body)]))
        elif m[0] == "delimiter":
            separator = m[1]

    def quote(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',;\t|"\n') else cell

    data = ("\n".join(separator.join(quote(c) for c in r) for r in [header, *body]) + "\n").encode()
    for m in byte_ops:
        if m[0] == "truncate":
            data = data[: max(1, len(data) - m[1])]
        elif m[0] == "bytes":
            at = m[1] % len(data)
            data = data[:at] + m[2] + data[at:]
        elif m[0] == "bom":
            data = b"\xef\xbb\xbf" + data
    return data


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutations=st.lists(mutation, min_size=1, max_size=4), max_reject_rate=st.sampled_from([0.0, 0.01, 0.25, 1.0]))
def test_mutated_input_publishes_or_fails_cleanly(tmp_path_factory, schedule, clean_lines, baseline, mutations, max_reject_rate):
    work = tmp_path_factory.mktemp("fuzz")
    db_dir, exports = work / "wh", work / "exports"
    shutil.copytree(baseline[0], db_dir)
    shutil.copytree(baseline[1], exports)
    before = tree(db_dir), tree(exports)
    csv = work / "customs.csv"
    csv.write_bytes(render(clean_lines, mutations))

    opts = RunOptions(db_path=db_dir / "w.duckdb", exports_dir=exports, inputs={"customs": csv},
                      max_reject_rate=max_reject_rate)
    [result] = run_months([MONTH], opts, schedule=schedule)  # must not raise

    if result.status != "success":
        assert result.error, "a failed run says why"
        assert (tree(db_dir), tree(exports)) == before, "a failed run changes no byte"
        assert [r.status for r in read_journal(opts.db_path)] == ["failed"]
        return
    assert result.rows_rejected / max(result.rows_in, 1) <= max_reject_rate
    con = duckdb.connect(str(opts.db_path), read_only=True)
    try:
        published = con.sql("SELECT count(*) FROM fct_duty_lines WHERE month = ?", params=[MONTH]).fetchall()[0][0]
        september = con.sql("SELECT count(*) FROM fct_duty_lines WHERE month = '2025-09'").fetchall()[0][0]
        rejected = con.sql("SELECT count(DISTINCT row_number) FROM rejects WHERE run_id = ?",
                           params=[result.run_id]).fetchall()[0][0]
    finally:
        con.close()
    assert published == result.rows_published
    assert rejected == result.rows_rejected
    assert september == len(clean_lines), "other months untouched"
    if published:
        files = list((exports / "duty_lines" / "year=2025" / "month=10").glob("*.parquet"))
        assert pl.read_parquet(files).height == published
