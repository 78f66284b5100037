"""Time and memory of one monthly run, stage by stage and mart by mart, in-process, without
Prefect and without cProfile (so the figures are those of a real run).

    .venv/bin/python bench/stage_profile.py --customs FILE.parquet [--month 2025-10]

Runs what `tariffcost run` runs for one month (flows.run.monthly.run_months with the plain
stages) against a fresh warehouse in bench/results/stage_profile/. A sampler thread reads the
process's resident memory (VmRSS) every 10 ms and keeps the peak seen during each step.
Prints, per step: wall seconds, CPU seconds (all threads), the peak RSS during it and the RSS when it ended; then the
process's peak RSS (ru_maxrss, what the benchmark reports) and the load average before and
after (other jobs share the machine). Steps: load, validate, each mart's build and its
contract check, publish.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / "results" / "stage_profile"
PAGE = os.sysconf("SC_PAGE_SIZE")


class Sampler:
    """The process's RSS every `interval` seconds; the peak per named step."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.step = "start"
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE

    def _run(self) -> None:
        while not self._stop.is_set():
            value = self.rss()
            if value > self.peaks.get(self.step, 0):
                self.peaks[self.step] = value
            time.sleep(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (every thread) so far."""
    times = os.times()
    return times.user + times.system


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customs", type=Path, required=True)
    parser.add_argument("--month", default="2025-10")
    args = parser.parse_args(argv)

    from flows.allocator import configure_allocator

    configure_allocator()  # as the console script does, before Polars loads
    from flows.run import marts as marts_module
    from flows.run.monthly import PLAIN_STAGES, build_options, run_months

    sampler = Sampler()
    rows: list[tuple[str, float, float, int, int]] = []

    def measured(step: str, call, *a, **kw):
        outer = sampler.step
        sampler.step = step
        started, cpu = time.perf_counter(), cpu_seconds()
        try:
            return call(*a, **kw)
        finally:
            peak = sampler.peaks.get(step, 0)
            rows.append((step, time.perf_counter() - started, cpu_seconds() - cpu, peak, sampler.rss()))
            sampler.peaks[outer] = max(sampler.peaks.get(outer, 0), peak)
            sampler.step = outer

    def wrapped_mart(mart):
        def build(ctx):
            return measured(f"  build {mart.table}", mart.build, ctx)

        class Timed(type(mart)):
            def validate(self, frame):
                return measured(f"  check {mart.table}", mart.validate, frame)

        fields = {f.name: getattr(mart, f.name) for f in dataclasses.fields(mart)}
        fields["build"] = build
        return Timed(**fields)

    marts = [wrapped_mart(m) for m in marts_module.MARTS]
    stages = dataclasses.replace(
        PLAIN_STAGES,
        **{
            stage: functools.partial(measured, stage, getattr(PLAIN_STAGES, stage))
            for stage in ("load", "validate", "compute", "publish")
        },
    )

    shutil.rmtree(WORK_DIR, ignore_errors=True)
    WORK_DIR.mkdir(parents=True)
    options = build_options(
        customs=str(args.customs), db=str(WORK_DIR / "warehouse.duckdb"), exports=str(WORK_DIR / "exports")
    )
    load_before = os.getloadavg()
    sampler.start()
    started = time.perf_counter()
    results = run_months([args.month], options, stages=stages, marts=marts)
    wall = time.perf_counter() - started
    sampler.stop()
    load_after = os.getloadavg()

    mib = 2**20
    print(f"{'step':45s} {'seconds':>8s} {'CPU s':>7s} {'peak MiB':>9s} {'end MiB':>8s}")
    for step, seconds, cpu, peak, end in rows:
        print(f"{step:45s} {seconds:8.2f} {cpu:7.2f} {peak / mib:9.0f} {end / mib:8.0f}")
    for result in results:
        print(f"{result.month} {result.status} in {wall:.1f} s; {result.error or ''}")
    print(f"peak RSS (ru_maxrss) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB; "
          f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f}")
    return 0 if all(r.status == "success" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
