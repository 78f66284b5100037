"""Backfill timing: sequential vs a local Dask cluster, on one machine.

    .venv/bin/python bench/backfill_bench.py --months 12 --lines 1000000 [--workers 2]

Generates `--months` months of `--lines` synthetic lines each (bench/generate_lines.py, seed
`DEFAULT_SEED + i` for month i so entry numbers do not repeat across months) into ONE Parquet
input, then times two real commands, each in its own process with its own temporary Prefect
home:

- `tariffcost backfill --from … --to … --customs INPUT` (sequential);
- the same with `--workers N` (a LocalCluster of N worker processes).

It checks that both warehouses hold the same fct_duty_lines totals, and reports per-worker
throughput: lines / the sum over months of the month task's stage seconds (load, validate,
compute, stage), read from `runs.stage_timings` of the cluster run. That figure drives the
paper estimate of a cluster's size (README "Running on a cluster"). Results go to
bench/results/backfill-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "bench"))
from generate_lines import DEFAULT_SEED, generate_lines  # noqa: E402

RESULTS = REPO_ROOT / "bench" / "results"
TARIFFCOST = str(Path(sys.executable).with_name("tariffcost"))


def months_from(first: str, count: int) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def make_input(months: list[str], lines: int, work: Path) -> Path:
    """One Parquet file of `lines` lines for each month (cached by size and months)."""
    out = RESULTS / "inputs" / f"backfill_{len(months)}x{lines}_{months[0]}.parquet"
    if out.exists():
        return out
    parts = []
    for i, month in enumerate(months):
        part = work / f"{month}.parquet"
        generate_lines(lines, part, month, DEFAULT_SEED + i)
        parts.append(unique_entries(pl.scan_parquet(part), i * (lines // 10 + 1)))
    out.parent.mkdir(parents=True, exist_ok=True)
    pl.concat(parts).sink_parquet(out, compression="zstd")
    return out


def unique_entries(lazy: pl.LazyFrame, offset: int) -> pl.LazyFrame:
    """Shift the 7-digit serial of `FFF-NNNNNNN-C` by `offset`: the generator numbers the
    entries of every month alike, and an entry number seen in two months would be one entry
    with two dates (rejected). A month of N lines has at most N / 10 serials per filer code."""
    parts = pl.col("entry_number").str.split("-")
    serial = parts.list.get(1).cast(pl.Int64) + offset
    return lazy.with_columns(
        entry_number=pl.concat_str(parts.list.get(0), pl.lit("-"), serial.cast(pl.Utf8).str.zfill(7),
                                   pl.lit("-"), (serial % 10).cast(pl.Utf8))
    )


def timed_backfill(name: str, months: list[str], customs: Path, work: Path, extra: list[str]) -> dict:
    db, exports = work / name / "w.duckdb", work / name / "exports"
    (work / name / "prefect").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(work / name / "prefect"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("PREFECT_API_URL", None)
    command = [TARIFFCOST, "backfill", "--from", months[0], "--to", months[-1], "--customs", str(customs),
               "--db", str(db), "--exports", str(exports), "--max-reject-rate", "1", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    (work / f"{name}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"{name} backfill failed ({done.returncode}): see {work / f'{name}.log'}")
    con = duckdb.connect(str(db), read_only=True)
    totals = con.sql("SELECT count(*), sum(total_duty_usd), sum(mpf_usd) FROM fct_duty_lines").fetchall()[0]
    rejected = con.sql("SELECT count(DISTINCT row_number) FROM rejects").fetchall()[0][0]
    runs = con.sql("SELECT month, rows_in, stage_timings FROM runs WHERE status = 'success' ORDER BY month").fetchall()
    con.close()
    task_seconds = {m: sum(json.loads(t).values()) for m, _, t in runs}
    return {
        "wall_s": round(wall, 1),
        "lines": totals[0],
        "total_duty_usd": str(totals[1]),
        "mpf_usd": str(totals[2]),
        "rows_in": sum(r for _, r, _ in runs),
        "rows_rejected": rejected,
        "month_task_s": {m: round(s, 1) for m, s in task_seconds.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines per month")
    parser.add_argument("--first", default="2025-01", help="first month (default %(default)s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the warehouses (in the work folder)")
    args = parser.parse_args(argv)
    months = months_from(args.first, args.months)
    work = Path(tempfile.mkdtemp(prefix="tariffcost-backfill-bench-"))
    try:
        customs = make_input(months, args.lines, work)
        load_before = os.getloadavg()[0]
        sequential = timed_backfill("sequential", months, customs, work, [])
        cluster = timed_backfill("cluster", months, customs, work, ["--workers", str(args.workers)])
        same = all(sequential[k] == cluster[k] for k in ("lines", "total_duty_usd", "mpf_usd"))
        task_total = sum(cluster["month_task_s"].values())
        report = {
            "months": months,
            "lines_per_month": args.lines,
            "workers": args.workers,
            "cpu_count": os.cpu_count(),
            "load_average_before": load_before,
            "sequential": sequential,
            "cluster": cluster,
            "same_totals": same,
            "speedup": round(sequential["wall_s"] / cluster["wall_s"], 2),
            "per_worker_lines_per_s": round(cluster["rows_in"] / task_total) if task_total else None,
            "sequential_lines_per_s": round(sequential["rows_in"] / sequential["wall_s"]),
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        out = RESULTS / f"backfill-{stamp}.json"
        out.write_text(json.dumps(report, indent=2))
        print(json.dumps({k: v for k, v in report.items() if k not in ("sequential", "cluster")}, indent=2))
        print(f"sequential {sequential['wall_s']} s, --workers {args.workers} {cluster['wall_s']} s; {out}")
        return 0 if same else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
