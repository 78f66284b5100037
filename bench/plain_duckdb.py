"""Run the benchmark's baseline, bench/plain_duckdb.sql, step by step, and time each step.

    .venv/bin/python bench/plain_duckdb.py --customs FILE.parquet --month 2025-10 \
        --db OUT.duckdb --agg-parquet OUT.parquet [--schedule data/schedule/default] [--json]

The schedule's file names come from its `schedule.toml` manifest, as in the pipeline (a
schedule without the optional metal derivatives or exemptions file gets an empty one). The
DuckDB file is created afresh (an existing one is removed first). Prints one line per step
(or, with --json, one JSON object with the step timings) on stdout.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import duckdb

BENCH_DIR = Path(__file__).resolve().parent
SQL_FILE = BENCH_DIR / "plain_duckdb.sql"
DEFAULT_SCHEDULE = BENCH_DIR.parent / "data" / "schedule" / "default"
STEP_MARK = re.compile(r"^-- step: (\S+)\s*$", re.MULTILINE)
REQUIRED_FILES = ("mfn", "measures", "scopes", "fees")
# the optional schedule files (docs/architecture.md, "The schedule"): their header, for a
# schedule that has none
OPTIONAL_FILES = {
    "metal_derivatives": "hts_prefix,ch99_code,metal,effective_date\n",
    "exemptions": "exemption_id,heading,exempts,scope_id,origin,valid_from,valid_to,exported_before,condition\n",
}


def sql_steps(text: str) -> list[tuple[str, str]]:
    """(step name, SQL) in file order; text before the first step mark is the header."""
    parts = STEP_MARK.split(text)
    return [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts), 2)]


def schedule_files(schedule: Path, empty_dir: Path) -> dict[str, Path]:
    """The CSV paths named by the schedule's manifest; an optional file it does not name is
    an empty one written to `empty_dir`."""
    manifest = schedule / "schedule.toml" if schedule.is_dir() else schedule
    files = tomllib.loads(manifest.read_text(encoding="utf-8"))["files"]
    paths = {kind: (manifest.parent / files[kind]).resolve() for kind in REQUIRED_FILES}
    for kind, header in OPTIONAL_FILES.items():
        if kind in files:
            paths[kind] = (manifest.parent / files[kind]).resolve()
        else:
            paths[kind] = empty_dir / f"{kind}.csv"
            paths[kind].write_text(header, encoding="utf-8")
    return paths


def run_baseline(customs: Path, month: str, db: Path, agg_parquet: Path, schedule: Path = DEFAULT_SCHEDULE) -> dict[str, float]:
    """Run every step of the script against a fresh `db`; returns seconds per step and `total`."""
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    agg_parquet.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    con = duckdb.connect(str(db))
    empty_dir = tempfile.TemporaryDirectory(prefix="plain_duckdb_")
    try:
        variables = {
            "customs_path": str(customs.resolve()),
            "month": month,
            "agg_parquet": str(agg_parquet.resolve()),
            **{f"{kind}_csv": str(path) for kind, path in schedule_files(schedule, Path(empty_dir.name)).items()},
        }
        for name, value in variables.items():
            con.execute(f"SET VARIABLE {name} = ?", [value])  # the name is ours, the value a parameter
        timings["connect"] = time.perf_counter() - started
        for step, sql in sql_steps(SQL_FILE.read_text(encoding="utf-8")):
            step_started = time.perf_counter()
            con.execute(sql)
            timings[step] = time.perf_counter() - step_started
    finally:
        con.close()
        empty_dir.cleanup()
    timings["total"] = time.perf_counter() - started
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customs", type=Path, required=True)
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--agg-parquet", type=Path, required=True)
    parser.add_argument("--schedule", type=Path, default=DEFAULT_SCHEDULE)
    parser.add_argument("--json", action="store_true", help="print the timings as one JSON object")
    args = parser.parse_args(argv)
    timings = run_baseline(args.customs, args.month, args.db, args.agg_parquet, args.schedule)
    if args.json:
        print(json.dumps(timings))
    else:
        for step, seconds in timings.items():
            print(f"{step:<28} {seconds:8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
