"""Profile one monthly run in-process, without Prefect, to see where the time goes.

    .venv/bin/python bench/profile_run.py --customs FILE.parquet [--month 2025-10] [--top 40]

Runs what `tariffcost run` runs (flows.run.monthly.run_months with the plain stages, then the
month report) under cProfile against a fresh warehouse in bench/results/profile/, and prints
the project's functions (flows/, transforms/, schemas/) by cumulative time, then the heaviest
library calls. Polars and DuckDB work in native threads: their time shows up on the Python
call that waits for it (collect, join, write, execute), which is what we want to attribute.
The full profile is saved to bench/results/profile/run.prof (open with `python -m pstats`).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROFILE_DIR = BENCH_DIR / "results" / "profile"
PROJECT_DIRS = ("/flows/", "/transforms/", "/schemas/")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customs", type=Path, required=True)
    parser.add_argument("--month", default="2025-10")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)

    from flows.present.report import write_month_reports
    from flows.run.monthly import build_options, run_months

    shutil.rmtree(PROFILE_DIR, ignore_errors=True)
    PROFILE_DIR.mkdir(parents=True)
    options = build_options(
        customs=str(args.customs), db=str(PROFILE_DIR / "warehouse.duckdb"), exports=str(PROFILE_DIR / "exports")
    )
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    results = run_months([args.month], options)
    write_month_reports(options.db_path, options.exports_dir, [args.month], options.schedule_path)
    profiler.disable()
    wall = time.perf_counter() - started
    for result in results:
        print(f"{result.month} {result.status} in {wall:.1f} s; stages {result.stage_seconds}; {result.error or ''}")
    profiler.dump_stats(PROFILE_DIR / "run.prof")

    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, name), (_, calls, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((cumulative, calls, filename, line, name))
    rows.sort(reverse=True)
    print(f"\nproject functions by cumulative seconds (of {wall:.1f} s):")
    shown = 0
    for cumulative, calls, filename, line, name in rows:
        if any(d in filename for d in PROJECT_DIRS) and shown < args.top:
            short = filename.split("/work/main/")[-1] if "/work/main/" in filename else filename
            print(f"{cumulative:8.2f} s  {calls:6d}x  {short}:{line} {name}")
            shown += 1
    print("\nlibrary calls by own (total) time:")
    stats.sort_stats("tottime").print_stats(15)
    return 0 if all(r.status == "success" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
