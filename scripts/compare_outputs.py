"""Compare a run's published tables and Parquet exports with a golden copy, row for row.

    python scripts/compare_outputs.py --golden DIR [--golden-repo CHECKOUT]
                                      [--db data/warehouse.duckdb] [--exports data/exports]

Every warehouse table is compared in full (sorted on all compared columns), leaving out the
run-time columns: run ids, timestamps, the refund estimate's `as_of_date`, stage durations and
the input paths inside `runs.input_checksums` (the sha256 and row counts are compared); the
checkout each run came from (`--golden-repo`, by default this checkout, and `--repo`) is
written `<repo>` in text columns (rejects name their source file, runs their schedule file).
Every Parquet file under the exports is compared the same way (same relative paths on both
sides). Exit code 0 when everything is identical, 1 otherwise (each difference is printed), 2
when the golden copy or the warehouse is not there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from flows.warehouse.reader import connect as connect_warehouse  # noqa: E402

# columns whose value depends on when (or where) the run happened
RUN_TIME_COLUMNS = {"run_id", "started_at", "finished_at", "stage_timings", "as_of_date"}


def _normalised(frame: pl.DataFrame, table: str, *repos: Path) -> pl.DataFrame:
    frame = frame.drop([c for c in frame.columns if c in RUN_TIME_COLUMNS])
    text = [c for c, dtype in frame.schema.items() if dtype == pl.Utf8]
    for repo in dict.fromkeys(str(r.resolve()) + "/" for r in repos):
        frame = frame.with_columns(pl.col(c).str.replace_all(repo, "<repo>/", literal=True) for c in text)
    if table == "runs" and "input_checksums" in frame.columns:
        def strip_paths(text: str | None) -> str | None:
            if text is None:
                return None
            inputs = json.loads(text)
            return json.dumps({k: {f: v for f, v in d.items() if f != "path"} for k, v in sorted(inputs.items())
                               for d in [v]}, sort_keys=True)

        frame = frame.with_columns(pl.col("input_checksums").map_elements(strip_paths, return_dtype=pl.Utf8))
    return frame.sort(frame.columns, nulls_last=True)


def _diff(name: str, golden: pl.DataFrame, actual: pl.DataFrame) -> list[str]:
    if golden.schema != actual.schema:
        return [f"{name}: schema differs: golden {dict(golden.schema)} vs {dict(actual.schema)}"]
    if golden.height != actual.height:
        return [f"{name}: {golden.height} golden rows vs {actual.height}"]
    if not golden.equals(actual):
        only_golden = golden.join(actual, on=golden.columns, how="anti", nulls_equal=True)
        return [f"{name}: {only_golden.height} golden rows differ, e.g. {only_golden.head(3).to_dicts()}"]
    return []


def compare_warehouse(golden_db: Path, db: Path, golden_repo: Path, repo: Path) -> tuple[list[str], int]:
    problems: list[str] = []
    # reader.connect: a golden copy of the warehouse (moved with its segment store) reads as it is
    with connect_warehouse(golden_db) as g, connect_warehouse(db) as a:
        golden_tables = {r[0] for r in g.sql("SHOW TABLES").fetchall()}
        actual_tables = {r[0] for r in a.sql("SHOW TABLES").fetchall()}
        if golden_tables != actual_tables:
            problems.append(f"tables differ: only golden {sorted(golden_tables - actual_tables)}, "
                            f"only new {sorted(actual_tables - golden_tables)}")
        for table in sorted(golden_tables & actual_tables):
            golden = _normalised(g.sql(f'SELECT * FROM "{table}"').pl(), table, golden_repo, repo)
            actual = _normalised(a.sql(f'SELECT * FROM "{table}"').pl(), table, repo)
            problems += _diff(f"table {table}", golden, actual)
    return problems, len(golden_tables)


def compare_exports(golden_root: Path, root: Path, golden_repo: Path, repo: Path) -> tuple[list[str], int]:
    problems: list[str] = []
    golden_files = {p.relative_to(golden_root) for p in golden_root.rglob("*.parquet")}
    actual_files = {p.relative_to(root) for p in root.rglob("*.parquet")}
    if golden_files != actual_files:
        problems.append(f"export files differ: only golden {sorted(map(str, golden_files - actual_files))[:5]}, "
                        f"only new {sorted(map(str, actual_files - golden_files))[:5]}")
    for rel in sorted(golden_files & actual_files):
        golden = _normalised(pl.read_parquet(golden_root / rel), str(rel), golden_repo, repo)
        actual = _normalised(pl.read_parquet(root / rel), str(rel), repo)
        problems += _diff(f"export {rel}", golden, actual)
    return problems, len(golden_files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--golden", type=Path, required=True,
                        help="the golden copy: a folder holding warehouse.duckdb and exports/")
    parser.add_argument("--golden-repo", type=Path, default=None,
                        help="the checkout the golden run was made in (default: --repo)")
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="the checkout of this run")
    parser.add_argument("--db", type=Path, default=Path("data/warehouse.duckdb"))
    parser.add_argument("--exports", type=Path, default=Path("data/exports"))
    args = parser.parse_args(argv)
    args.golden_repo = args.golden_repo or args.repo
    missing = [p for p in (args.golden / "warehouse.duckdb", args.golden / "exports", args.db) if not p.exists()]
    if missing:
        print(f"nothing to compare: {', '.join(map(str, missing))} not found", file=sys.stderr)
        return 2
    table_problems, tables = compare_warehouse(args.golden / "warehouse.duckdb", args.db, args.golden_repo, args.repo)
    export_problems, files = compare_exports(args.golden / "exports", args.exports, args.golden_repo, args.repo)
    for problem in table_problems + export_problems:
        print(problem)
    problems = len(table_problems) + len(export_problems)
    print(f"{tables} tables, {files} Parquet export files compared: "
          + ("identical" if not problems else f"{problems} difference(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
