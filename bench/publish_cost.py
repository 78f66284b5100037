"""What a publish writes: a small month published into a large warehouse (issue 18).

    .venv/bin/python bench/publish_cost.py                     # 2 months of 2M lines, then 10k
    .venv/bin/python bench/publish_cost.py --big 5M --months 2 --small 10k

Builds a warehouse of `--months` months of `--big` generated lines each (realistic mix,
bench/generate_lines.py; one `tariffcost run` per month), then runs `tariffcost run` on a
month of `--small` lines into it, twice (a new month, then the same month again: a re-run
replaces it). Each run is its own process; for each the wall time, the peak memory and the
bytes it wrote (growth of `ru_oublock`, RUSAGE_CHILDREN, what the process and its children
wrote to the file system) are printed beside the size of the warehouse it published into (the
catalog file plus its segment store). A publish that copied or rewrote the warehouse would
write at least the warehouse's size. Results go to bench/results/publish-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from run_bench import (  # noqa: E402
    DEFAULT_SEED,
    RESULTS_DIR,
    TARIFFCOST,
    input_file,
    measure,
    parse_size,
    prefect_env,
    stop_shared_api,
    warm_up,
)

from flows.warehouse.reader import store_path  # noqa: E402

BIG_MONTHS = ("2025-07", "2025-08", "2025-09", "2025-06", "2025-05", "2025-04")
SMALL_MONTH = "2025-10"


def tree_mib(*paths: Path) -> float:
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return total / 2**20


def run_month(work: Path, month: str, customs: Path) -> dict:
    db = work / "warehouse.duckdb"
    before = tree_mib(db, store_path(db))
    run = measure(
        [str(TARIFFCOST), "run", "--month", month, "--customs", str(customs), "--db", str(db),
         "--exports", str(work / "exports")],
        env=prefect_env(), cwd=work,
    )
    if run.returncode != 0:
        raise SystemExit(f"tariffcost run {month} failed ({run.returncode}):\n{(run.stdout + run.stderr)[-3000:]}")
    return {
        "month": month,
        "wall_s": round(run.wall_s, 2),
        "peak_rss_mib": round(run.peak_rss_mib, 1),
        "written_mib": round(run.written_mib, 2),
        "warehouse_before_mib": round(before, 1),
        "load_before": run.load_before,
    }


def show(label: str, row: dict) -> None:
    share = row["written_mib"] / row["warehouse_before_mib"] if row["warehouse_before_mib"] else None
    print(f"  {label:<34} {row['wall_s']:7.2f} s  peak {row['peak_rss_mib']:7,.0f} MiB  wrote "
          f"{row['written_mib']:9,.2f} MiB  into a warehouse of {row['warehouse_before_mib']:9,.1f} MiB"
          + (f" ({share:.2%})" if share is not None else "") + f"  load {row['load_before']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", default="2M", help="lines of each month already in the warehouse (default 2M)")
    parser.add_argument("--months", type=int, default=2, help="months already in the warehouse (default 2)")
    parser.add_argument("--small", default="10k", help="lines of the month published into it (default 10k)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    big, small = parse_size(args.big), parse_size(args.small)
    if not 1 <= args.months <= len(BIG_MONTHS):
        parser.error(f"--months takes 1 to {len(BIG_MONTHS)}")
    work = RESULTS_DIR / "work" / "publish-cost"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    warm_up(SMALL_MONTH, args.seed)
    result: dict = {"big": big, "months": args.months, "small": small, "runs": []}
    try:
        print(f"warehouse of {args.months} months of {big:,} lines (realistic mix):", flush=True)
        for number, month in enumerate(BIG_MONTHS[: args.months]):
            row = run_month(work, month, input_file(big, month, args.seed + number, "realistic"))
            show(f"{month}: {big:,} lines", row)
            result["runs"].append({"what": f"big month {month}", **row})
        customs = input_file(small, SMALL_MONTH, args.seed, "realistic")
        for what in ("new month", "same month again (replaced)"):
            row = run_month(work, SMALL_MONTH, customs)
            show(f"{SMALL_MONTH}: {small:,} lines, {what}", row)
            result["runs"].append({"what": f"small month: {what}", **row})
    finally:
        stop_shared_api()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"publish-{stamp}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"results: {out.relative_to(BENCH_DIR.parent)}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
