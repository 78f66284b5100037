"""The benchmark (`make bench`): `tariffcost run` against a plain DuckDB SQL script doing the
same work, on N generated customs lines of one month, plus `tariffcost quote` latency.

    .venv/bin/python bench/run_bench.py                         # 1M and 5M lines (make bench)
    .venv/bin/python bench/run_bench.py --sizes 10k,100k,1M,5M,20M --mixes census,realistic
    .venv/bin/python bench/run_bench.py --sizes 20M --mixes realistic --skip-quote

For every size: generate the input once (bench/results/inputs/, reused while seed and month
stay the same), run the baseline (bench/plain_duckdb.py) and the pipeline (`tariffcost run
--month M --customs FILE --db X --exports Y`), each in its own process with wall time and peak
resident memory from wait4 (what `/usr/bin/time -v` reports as "Maximum resident set size")
and bytes written (the growth of `ru_oublock` of getrusage(RUSAGE_CHILDREN) across the child,
in 512-byte blocks: what the child and the processes it waited for wrote to the file system,
page-cache write-back included), the 1-, 5- and 15-minute load averages before each process
(other jobs share the machine), read the pipeline's stage timings from its `runs` row and its printed summary, and check that
both produced the same lines and the same sums of total_duty_usd, mpf_usd and hmf_usd to the
cent. Results go to bench/results/ (git-ignored) and the merged latest figures per size to
bench/RESULTS.md (committed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
RESULTS_MD = BENCH_DIR / "RESULTS.md"
PYTHON = Path(sys.executable)
TARIFFCOST = PYTHON.parent / "tariffcost"

DEFAULT_SIZES = "1M,5M"
DEFAULT_MIXES = "census"
MIXES = ("census", "realistic")
BLOCK_BYTES = 512  # ru_oublock counts 512-byte blocks
DEFAULT_MONTH = "2025-10"
DEFAULT_SEED = 20251001
GENERATOR_VERSION = "g4"  # bump when bench/generate_lines.py changes its output
QUOTE_ARGS = ["--hts", "8703230190", "--origin", "JP", "--entry-date", "2025-10-15", "--value", "30000"]
CHECKED_SUMS = ("total_duty_usd", "mpf_usd", "hmf_usd")
WARM_RUSAGE_ENV = "TARIFFCOST_WARM_RUSAGE"  # flows/run/warm.py RUSAGE_ENV
SUMMARY_TIME = re.compile(r"^\s*time: (.+)$", re.MULTILINE)
STAGE_TIME = re.compile(r"(\w+) ([0-9.]+) s")
RESULTS_JSON = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


@dataclass
class Measured:
    """One child process: wall seconds, peak RSS (MiB), MiB written, exit code, its output and
    the load averages (1, 5, 15 min) just before it started."""

    wall_s: float
    peak_rss_mib: float
    written_mib: float
    cpu_s: float  # user + system CPU of the child and the descendants it waited for
    returncode: int
    load_before: tuple[float, float, float]
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)
    warm: bool = False  # handed to the warm runner: memory, CPU and bytes are its forked process's


def measure(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Measured:
    """Run `command` to completion; peak RSS is the child's ru_maxrss (the largest of it and
    the descendants it waited for), as /usr/bin/time -v reports it; bytes written are the
    growth of RUSAGE_CHILDREN's ru_oublock across it (512-byte blocks). A `tariffcost run`
    handed to the warm runner (flows/run/warm.py) did its work in a process forked by the
    runner, not in the child: the runner's wait4 figures for it (peak RSS, CPU, blocks
    written), which the command writes to TARIFFCOST_WARM_RUSAGE, are taken in (the larger
    peak, the sums of CPU and bytes)."""
    out_path = RESULTS_DIR / ".child.out"
    err_path = RESULTS_DIR / ".child.err"
    warm_path = RESULTS_DIR / ".child.warm.json"
    warm_path.unlink(missing_ok=True)
    if env is not None:
        env = {**env, WARM_RUSAGE_ENV: str(warm_path)}
    load_before = os.getloadavg()
    with out_path.open("w") as out, err_path.open("w") as err:
        blocks_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_oublock
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        blocks = resource.getrusage(resource.RUSAGE_CHILDREN).ru_oublock - blocks_before
    process.returncode = os.waitstatus_to_exitcode(status)
    peak_kib, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    warm = warm_path.exists()
    if warm:  # a `run` handed to the warm runner: its forked process did the work (flows/run/warm.py)
        forked = json.loads(warm_path.read_text())
        peak_kib = max(peak_kib, forked["maxrss_kib"])
        cpu += forked["utime_s"] + forked["stime_s"]
        blocks += forked["oublock"]
        warm_path.unlink()
    return Measured(
        wall_s=wall,
        peak_rss_mib=peak_kib / 1024,  # Linux reports KiB
        written_mib=blocks * BLOCK_BYTES / 2**20,
        cpu_s=cpu,
        returncode=process.returncode,
        load_before=tuple(round(x, 2) for x in load_before),
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
        warm=warm,
    )


def parse_size(text: str) -> int:
    """`1M`, `500k`, `2500000` → number of lines."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if factor != 1 else text
    return int(float(number) * factor)


def size_label(n: int) -> str:
    return f"{n / 1_000_000:g}M" if n >= 1_000_000 else f"{n / 1_000:g}k"


def input_file(n: int, month: str, seed: int, mix: str = "census") -> Path:
    """The generated input for (n, month, seed, mix), generated in a child process if missing."""
    path = RESULTS_DIR / "inputs" / f"lines_{GENERATOR_VERSION}_{mix}_{n}_{month}_{seed}.parquet"
    if not path.exists():
        print(f"  generating {n:,} lines ({mix} mix) of {month} -> {path.relative_to(REPO_ROOT)}", flush=True)
        generated = measure(
            [str(PYTHON), str(BENCH_DIR / "generate_lines.py"), "--lines", str(n), "--month", month,
             "--seed", str(seed), "--mix", mix, "--out", str(path)]
        )
        if generated.returncode != 0:
            raise SystemExit(f"generate_lines.py failed:\n{generated.stderr}")
        print(f"  generated in {generated.wall_s:.1f} s (peak {generated.peak_rss_mib:,.0f} MiB)", flush=True)
    return path


def warehouse_sums(db: Path, table: str = "fct_duty_lines") -> dict[str, str]:
    """Line count and the checked sums of a warehouse file, as exact decimal text."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        sums = ", ".join(f"CAST(sum({c}) AS VARCHAR)" for c in CHECKED_SUMS)  # fixed column names
        row = con.sql(f"SELECT CAST(count(*) AS VARCHAR), {sums} FROM {table}").fetchall()[0]
    finally:
        con.close()
    return dict(zip(("lines", *CHECKED_SUMS), row, strict=True))


def pipeline_stage_timings(db: Path, stdout: str) -> dict[str, float]:
    """Stage seconds: the `runs` row's stage_timings (load, validate, compute), completed with
    the printed summary (which also has publish)."""
    timings: dict[str, float] = {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.sql("SELECT stage_timings FROM runs WHERE status = 'success' ORDER BY started_at DESC LIMIT 1").fetchall()
    finally:
        con.close()
    if rows and rows[0][0]:
        timings.update({k: float(v) for k, v in json.loads(rows[0][0]).items()})
    for line in SUMMARY_TIME.findall(stdout):
        for stage, seconds in STAGE_TIME.findall(line):
            timings.setdefault(stage, float(seconds))
    return timings


PREFECT_API_MODE = {"mode": "shared", "warm": "on"}  # set from --prefect-api and --warm-runner


def prefect_env() -> dict[str, str]:
    """A private Prefect home for the benchmark's runs (its local API in the mode asked for:
    `shared`, started by the warm-up run and reused by the measured ones, or `temporary`, one
    per run; no analytics)."""
    env = dict(os.environ)
    env["PREFECT_HOME"] = str(RESULTS_DIR / "prefect_home")
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["TARIFFCOST_PREFECT_API"] = PREFECT_API_MODE["mode"]
    env["TARIFFCOST_WARM"] = PREFECT_API_MODE["warm"]
    env.pop("PREFECT_API_URL", None)
    return env


def stop_shared_api() -> None:
    """The benchmark leaves no shared Prefect API and no warm runner running."""
    subprocess.run([str(TARIFFCOST), "api", "stop"], env=prefect_env(), capture_output=True, timeout=120)


def warm_up(month: str, seed: int) -> None:
    """Small runs first, so that no measured run pays one-off costs: creating the Prefect
    home's database, first imports after a cold page cache, and (unless --warm-runner off)
    the warm runner's start: repeated, 2 s apart, until a run was handed to it (at most 5)."""
    work = RESULTS_DIR / "work" / "warm-up"
    customs = input_file(1_000, month, seed)
    for attempt in range(1, 6):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        run = measure(
            [str(TARIFFCOST), "run", "--month", month, "--customs", str(customs), "--db", str(work / "w.duckdb"),
             "--exports", str(work / "exports")],
            env=prefect_env(),
            cwd=work,
        )
        print(f"warm-up run {attempt} on 1,000 lines: {run.wall_s:.1f} s (exit {run.returncode}, "
              f"{'in the warm runner' if run.warm else 'in its own process'}, load before {run.load_before})",
              flush=True)
        if run.returncode != 0:
            print("  " + "\n  ".join((run.stdout + run.stderr).strip().splitlines()[-5:]), flush=True)
        if run.warm or PREFECT_API_MODE["warm"] == "off" or run.returncode != 0:
            break
        time.sleep(2)
    shutil.rmtree(work, ignore_errors=True)


def bench_size(n: int, month: str, seed: int, run_baseline: bool, run_pipeline: bool, mix: str = "census") -> dict:
    label = size_label(n)
    print(f"\n== {n:,} lines ({label}, {mix} mix) ==", flush=True)
    customs = input_file(n, month, seed, mix)
    work = RESULTS_DIR / "work" / f"{mix}-{label}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result: dict = {"lines": n, "mix": mix, "month": month, "seed": seed,
                    "input_mib": customs.stat().st_size / 2**20,
                    "load_average_before": os.getloadavg()[0]}

    if run_baseline:
        base_db = work / "baseline.duckdb"
        base = measure(
            [str(PYTHON), str(BENCH_DIR / "plain_duckdb.py"), "--json", "--customs", str(customs),
             "--month", month, "--db", str(base_db), "--agg-parquet", str(work / "baseline_by_hs_month.parquet")]
        )
        if base.returncode != 0:
            raise SystemExit(f"baseline failed ({base.returncode}):\n{base.stderr[-4000:]}")
        result["baseline"] = {
            "wall_s": base.wall_s,
            "peak_rss_mib": base.peak_rss_mib,
            "written_mib": base.written_mib,
            "load_before": base.load_before,
            "steps_s": json.loads(base.stdout.strip().splitlines()[-1]),
            "sums": warehouse_sums(base_db),
        }
        print(f"  baseline  {base.wall_s:8.2f} s  peak {base.peak_rss_mib:8,.0f} MiB  wrote "
              f"{base.written_mib:8,.1f} MiB  (load {base.load_before})", flush=True)

    if run_pipeline:
        db = work / "warehouse.duckdb"
        run = measure(
            [str(TARIFFCOST), "run", "--month", month, "--customs", str(customs), "--db", str(db),
             "--exports", str(work / "exports")],
            env=prefect_env(),
            cwd=work,
        )
        (work / "pipeline.stdout").write_text(run.stdout)
        (work / "pipeline.stderr").write_text(run.stderr)
        result["pipeline"] = {"wall_s": run.wall_s, "peak_rss_mib": run.peak_rss_mib, "written_mib": run.written_mib,
                              "cpu_s": run.cpu_s, "warm": run.warm, "load_before": run.load_before,
                              "returncode": run.returncode}
        if run.returncode != 0:
            print(f"  pipeline FAILED (exit {run.returncode}); output in {work.relative_to(REPO_ROOT)}", flush=True)
            result["pipeline"]["error"] = (run.stdout + run.stderr)[-2000:]
            return result
        stages = pipeline_stage_timings(db, run.stdout)
        stages["startup_and_other"] = max(run.wall_s - sum(stages.values()), 0.0)
        result["pipeline"].update(stages_s=stages, sums=warehouse_sums(db))
        print(f"  pipeline  {run.wall_s:8.2f} s  peak {run.peak_rss_mib:8,.0f} MiB  wrote "
              f"{run.written_mib:8,.1f} MiB  CPU {run.cpu_s:.2f} s  (load {run.load_before}"
              f"{', warm runner' if run.warm else ''})  stages "
              + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()), flush=True)

    if "baseline" in result and "sums" in result.get("pipeline", {}):
        pipeline, baseline = result["pipeline"], result["baseline"]
        result["same_totals"] = pipeline["sums"] == baseline["sums"]
        result["time_ratio"] = pipeline["wall_s"] / baseline["wall_s"]
        result["memory_ratio"] = pipeline["peak_rss_mib"] / baseline["peak_rss_mib"]
        print(f"  ratio: time {result['time_ratio']:.2f}x, peak memory {result['memory_ratio']:.2f}x; "
              f"totals {'EQUAL' if result['same_totals'] else 'DIFFER'} "
              f"(pipeline {pipeline['sums']}, baseline {baseline['sums']})", flush=True)
    shutil.rmtree(work / "exports", ignore_errors=True)
    return result


def bench_quote(runs: int) -> dict:
    """Wall time of `tariffcost quote` in a fresh process, `runs` times (no Prefect server)."""
    walls = []
    cpus = []
    load = None
    for _ in range(runs):
        quote = measure([str(TARIFFCOST), "quote", *QUOTE_ARGS, "--json"], env=prefect_env())
        if quote.returncode != 0:
            return {"error": (quote.stdout + quote.stderr)[-2000:]}
        walls.append(quote.wall_s)
        cpus.append(quote.cpu_s)
        peak = quote.peak_rss_mib
        load = load or quote.load_before
    print(f"\n== quote: {runs} runs, median {statistics.median(walls):.2f} s, max {max(walls):.2f} s, "
          f"median CPU {statistics.median(cpus):.2f} s ==")
    return {"runs": runs, "wall_s": walls, "median_s": statistics.median(walls), "max_s": max(walls),
            "peak_rss_mib": peak, "args": QUOTE_ARGS, "load_before": load, "cpu_s": cpus,
            "median_cpu_s": statistics.median(cpus)}


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total_kib = re.search(r"MemTotal:\s+(\d+)", meminfo)
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    import polars

    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(int(total_kib.group(1)) / 2**20, 1) if total_kib else None,
        "cpu": model.group(1).strip() if model else platform.processor(),
        "python": platform.python_version(),
        "polars": polars.__version__,
        "duckdb": duckdb.__version__,
    }


def result_key(mix: str, n: int) -> str:
    return f"{mix}:{n}"


def median_result(runs: list[dict]) -> dict:
    """One result from repeated runs of a size: wall time, peak memory and bytes written are
    the medians of the runs (each run's figures kept under `runs`), ratios of the medians."""
    result = dict(runs[-1])
    if len(runs) == 1:
        return result
    for side in ("baseline", "pipeline"):
        measured = [r[side] for r in runs if side in r and "wall_s" in r[side]]
        if not measured:
            continue
        combined = dict(measured[-1])
        for figure in ("wall_s", "peak_rss_mib", "written_mib"):
            combined[figure] = statistics.median(m[figure] for m in measured)
        combined["runs"] = [{k: m.get(k) for k in ("wall_s", "peak_rss_mib", "written_mib", "load_before")}
                            for m in measured]
        result[side] = combined
    if "wall_s" in result.get("baseline", {}) and "wall_s" in result.get("pipeline", {}):
        result["time_ratio"] = result["pipeline"]["wall_s"] / result["baseline"]["wall_s"]
        result["memory_ratio"] = result["pipeline"]["peak_rss_mib"] / result["baseline"]["peak_rss_mib"]
        result["same_totals"] = all(r.get("same_totals", False) for r in runs)
    return result


# -- RESULTS.md -----------------------------------------------------------------------------------
def previous_results() -> dict:
    """The results already in bench/RESULTS.md (its JSON block), so sizes accumulate. Results
    from before the lean baseline and the mixes (keys without a mix) are dropped."""
    if not RESULTS_MD.exists():
        return {"sizes": {}}
    found = RESULTS_JSON.search(RESULTS_MD.read_text())
    results = json.loads(found.group(1)) if found else {"sizes": {}}
    results["sizes"] = {k: v for k, v in results.get("sizes", {}).items() if ":" in k}
    return results


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def render_markdown(results: dict) -> str:
    sizes = sorted(results["sizes"].values(), key=lambda r: (MIXES.index(r.get("mix", "census")), r["lines"]))
    out = [
        "# Benchmark results",
        "",
        "Written by `bench/run_bench.py` (`make bench`); the latest run of each size and mix is "
        "kept. Pipeline = `tariffcost run --month M --customs FILE --db X --exports Y` end to end, "
        "started as a fresh command (handed to the warm runner that the warm-up started, unless "
        "measured with `--warm-runner off`: then every import and Prefect's client start-up in the "
        "command's own process); baseline = `bench/plain_duckdb.sql` (the "
        "same core arithmetic as lean hand-written DuckDB SQL: no row checks, no reconciliation, "
        "refund ledger, scenarios or line export). Peak memory = maximum resident set size of the "
        "process (wait4; for a run in the warm runner, of the process it forked for the run, from the "
        "runner's wait4); written = growth of RUSAGE_CHILDREN's ru_oublock × 512 bytes (plus the "
        "forked run's). Load = the "
        "1/5/15-minute load averages just before the process started (2 cores shared with other "
        "jobs). With `--repeat N` each figure is the median of N runs.",
        "",
    ]
    for r in sizes:
        if "machine" in r:
            m = r["machine"]
            out.append(f"- {r.get('mix', 'census')} {size_label(r['lines'])}: measured {r['when']} "
                       f"({r.get('prefect_api', 'temporary')} Prefect API, warm runner "
                       f"{r.get('warm_runner', 'off')}) on "
                       f"{m['cpus']} CPUs, {m['memory_gib']} GiB ({m['cpu']}), Python {m['python']}, "
                       f"polars {m['polars']}, duckdb {m['duckdb']}")
    out += [
        "",
        "| mix | lines | pipeline s | baseline s | time ratio | pipeline peak MiB | baseline peak MiB | memory ratio | pipeline written MiB | baseline written MiB | load before (pipeline) | same totals |",
        "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---|:---:|",
    ]
    for r in sizes:
        p, b = r.get("pipeline", {}), r.get("baseline", {})
        load = p.get("load_before") or b.get("load_before")
        out.append(
            f"| {r.get('mix', 'census')} | {r['lines']:,} | {_fmt(p.get('wall_s'), '.2f')} | {_fmt(b.get('wall_s'), '.2f')} | "
            f"{_fmt(r.get('time_ratio'), '.2f')} | {_fmt(p.get('peak_rss_mib'), ',.0f')} | "
            f"{_fmt(b.get('peak_rss_mib'), ',.0f')} | {_fmt(r.get('memory_ratio'), '.2f')} | "
            f"{_fmt(p.get('written_mib'), ',.1f')} | {_fmt(b.get('written_mib'), ',.1f')} | "
            f"{' / '.join(f'{x:.1f}' for x in load) if load else '—'} | "
            f"{ {True: 'yes', False: 'NO'}.get(r.get('same_totals'), '—') } |"
        )
    stage_order = ["load", "validate", "compute", "publish", "startup_and_other"]
    stage_names = sorted({s for r in sizes for s in r.get("pipeline", {}).get("stages_s", {}) if s in stage_order},
                         key=stage_order.index)
    if stage_names:
        out += ["", "Pipeline stages (seconds; from the run's `runs` row and summary):", "",
                "| mix | lines | " + " | ".join(stage_names) + " |", "|:---|---:|" + "---:|" * len(stage_names)]
        for r in sizes:
            stages = r.get("pipeline", {}).get("stages_s", {})
            out.append(f"| {r.get('mix', 'census')} | {r['lines']:,} | " + " | ".join(_fmt(stages.get(s), ".2f") for s in stage_names) + " |")
    step_names = list(dict.fromkeys(s for r in sizes for s in r.get("baseline", {}).get("steps_s", {}) if s != "total"))
    if step_names:
        out += ["", "Baseline steps (seconds):", "", "| mix | lines | " + " | ".join(step_names) + " |",
                "|:---|---:|" + "---:|" * len(step_names)]
        for r in sizes:
            steps = r.get("baseline", {}).get("steps_s", {})
            out.append(f"| {r.get('mix', 'census')} | {r['lines']:,} | " + " | ".join(_fmt(steps.get(s), ".2f") for s in step_names) + " |")
    quote = results.get("quote")
    if quote and "median_s" in quote:
        out += ["", f"`tariffcost quote {' '.join(quote['args'])} --json` in a fresh process, "
                f"{quote['runs']} runs: median {quote['median_s']:.2f} s, max {quote['max_s']:.2f} s, "
                f"median CPU (user + system) {quote.get('median_cpu_s', float('nan')):.2f} s, "
                f"peak {quote['peak_rss_mib']:,.0f} MiB ({quote.get('when', '')}, load before "
                f"{' / '.join(f'{x:.1f}' for x in quote.get('load_before', ())) or '—'})."]
    out += ["", "Raw results (read back by the next run):", "", "```json",
            json.dumps(results, indent=1, sort_keys=True), "```", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma list, e.g. 1M,5M,20M (default %(default)s)")
    parser.add_argument("--mixes", default=DEFAULT_MIXES,
                        help=f"comma list of generator mixes, of {', '.join(MIXES)} (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per size and mix; the figures kept are the medians (default %(default)s)")
    parser.add_argument("--month", default=DEFAULT_MONTH)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--quote-runs", type=int, default=5)
    parser.add_argument("--skip-quote", action="store_true")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--no-results-md", action="store_true", help="do not update bench/RESULTS.md")
    parser.add_argument("--prefect-api", choices=("shared", "temporary"), default="shared",
                        help="the runs' local Prefect API (TARIFFCOST_PREFECT_API; default %(default)s)")
    parser.add_argument("--warm-runner", choices=("on", "off"), default="on",
                        help="hand each run to the warm runner (TARIFFCOST_WARM; default %(default)s)")
    args = parser.parse_args(argv)
    PREFECT_API_MODE["mode"] = args.prefect_api
    PREFECT_API_MODE["warm"] = args.warm_runner
    try:
        return _bench(args)
    finally:
        stop_shared_api()


def _bench(args: argparse.Namespace) -> int:

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    info = machine()
    merged = previous_results()
    this_run: dict = {"sizes": {}}
    if not args.skip_pipeline or not args.skip_quote:
        warm_up(args.month, args.seed)
    mixes = [m.strip() for m in args.mixes.split(",") if m.strip()]
    unknown = sorted(set(mixes) - set(MIXES))
    if unknown:
        raise SystemExit(f"unknown mix(es) {', '.join(unknown)}; known: {', '.join(MIXES)}")
    # (with both the baseline and the pipeline skipped only the quote is measured: the sizes'
    # figures in bench/RESULTS.md are kept)
    measured_mixes = mixes if not (args.skip_baseline and args.skip_pipeline) else []
    for mix in measured_mixes:
        for n in (parse_size(s) for s in args.sizes.split(",") if s.strip()):
            runs = [bench_size(n, args.month, args.seed, not args.skip_baseline, not args.skip_pipeline, mix)
                    for _ in range(max(args.repeat, 1))]
            result = median_result(runs)
            result.update(when=when, machine=info, prefect_api=args.prefect_api, warm_runner=args.warm_runner)
            this_run["sizes"][result_key(mix, n)] = result
            merged["sizes"][result_key(mix, n)] = result
    if not args.skip_quote:
        this_run["quote"] = merged["quote"] = {**bench_quote(args.quote_runs), "when": when}

    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    (RESULTS_DIR / f"bench-{stamp}.json").write_text(json.dumps(this_run, indent=1))
    if not args.no_results_md:
        RESULTS_MD.write_text(render_markdown(merged))
        print(f"\nupdated {RESULTS_MD.relative_to(REPO_ROOT)}")
    failed = [r for r in this_run["sizes"].values()
              if r.get("pipeline", {}).get("returncode", 0) != 0 or r.get("same_totals") is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
