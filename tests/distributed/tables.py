"""Read a published warehouse and its exports for comparison: every table's rows, sorted,
without the columns that name the run (run ids, clock times, stage timings, and the refund
ledger's `as_of_date`, the run's UTC date, which differs between two runs either side of
midnight)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

VOLATILE = {"run_id", "started_at", "finished_at", "stage_timings", "as_of_date"}


def published_tables(db: Path) -> dict[str, list[tuple]]:
    """table -> its rows (volatile columns left out), sorted."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [t for (t,) in con.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        found = {}
        for table in tables:
            columns = [
                c for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ? "
                    "ORDER BY ordinal_position", [table],
                ).fetchall()
                if c not in VOLATILE
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            found[table] = con.sql(f'SELECT {listed} FROM "{table}" ORDER BY ALL').fetchall()
        return found
    finally:
        con.close()


def exported_files(root: Path) -> dict[str, pl.DataFrame]:
    """relative path -> contents of every Parquet export (reports and dot folders excluded)."""
    return {
        str(path.relative_to(root)): pl.read_parquet(path).drop(VOLATILE, strict=False)
        for path in sorted(root.rglob("*.parquet"))
        if not any(part.startswith(".") for part in path.relative_to(root).parts)
    }


def assert_same_publication(expected_db: Path, expected_exports: Path, db: Path, exports: Path) -> None:
    """Every table row for row, every export file frame for frame."""
    want, got = published_tables(expected_db), published_tables(db)
    assert sorted(got) == sorted(want)
    for table in want:
        assert got[table] == want[table], f"{table} differs"
    want_files, got_files = exported_files(expected_exports), exported_files(exports)
    assert sorted(got_files) == sorted(want_files)
    for name, frame in want_files.items():
        assert got_files[name].equals(frame), f"export {name} differs"
