"""What a run reports: the terminal summary, the Prefect markdown artifact, the progress
display, and the report's ingredients computed from the frames (duty by program, warnings,
worst input problems). Column logic only; printing happens in `print_summary`."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import polars as pl

from flows.present.markdown import escape
from transforms.fees import fee_rows
from transforms.schedule import Schedule

if TYPE_CHECKING:
    from flows.run.monthly import RunResult

# program label -> fct_duty_lines column, in report order
PROGRAM_COLUMNS: dict[str, str] = {
    "MFN": "mfn_duty_usd",
    "Section 232": "section_232_duty_usd",
    "IEEPA": "ieepa_duty_usd",
    "other (122/301)": "other_duty_usd",
    "total duty": "total_duty_usd",
    "MPF": "mpf_usd",
    "HMF": "hmf_usd",
    "total cost": "total_cost_usd",
}
UNCONFIRMED_PREFIX = "unconfirmed:"
TOP_PROBLEMS = 5
EXAMPLES_PER_PROBLEM = 3


@dataclass(frozen=True)
class ProblemSummary:
    """One (column, check) of the rejects with how many rows broke it and a few examples."""

    source: str
    column: str
    check: str
    rows: int
    examples: list[tuple[int, str | None]] = field(default_factory=list)

    def describe(self) -> str:
        shown = ", ".join(f"row {row} {value!r}" for row, value in self.examples)
        return f"{self.column} / {self.check}: {self.rows} row{'s' if self.rows != 1 else ''} (e.g. {shown})"


def duty_by_program(lines: pl.DataFrame | None) -> dict[str, Decimal]:
    """Exact sums of the line amounts per program (empty when no lines mart was built)."""
    if lines is None:
        return {}
    present = {label: column for label, column in PROGRAM_COLUMNS.items() if column in lines.columns}
    if lines.height == 0:
        return {label: Decimal("0.00") for label in present}
    sums = lines.select(pl.col(column).sum().alias(label) for label, column in present.items())
    return {label: Decimal(str(value)) for label, value in sums.row(0, named=True).items()}


def worst_problems(rejects: pl.DataFrame | None, top: int = TOP_PROBLEMS) -> list[ProblemSummary]:
    """The checks that rejected the most rows, with the first rows as examples."""
    if rejects is None or rejects.height == 0:
        return []
    grouped = (
        rejects.sort("row_number")
        .group_by("source", "column", "check")
        .agg(
            rows=pl.col("row_number").n_unique(),
            example_rows=pl.col("row_number").head(EXAMPLES_PER_PROBLEM),
            example_values=pl.col("value").head(EXAMPLES_PER_PROBLEM),
        )
        .sort(["rows", "source", "column", "check"], descending=[True, False, False, False])
        .head(top)
    )
    return [
        ProblemSummary(
            source=r["source"],
            column=r["column"],
            check=r["check"],
            rows=r["rows"],
            examples=list(zip(r["example_rows"], r["example_values"], strict=True)),
        )
        for r in grouped.to_dicts()
    ]


def _flag_counts(lines: pl.DataFrame) -> pl.DataFrame:
    """flag -> (lines, entries) over the ", "-joined `flags` column, UNCONFIRMED flags first."""
    return (
        # (most lines have no flag: only the others are split)
        lines.filter(pl.col("flags") != "")
        .select("entry_number", flag=pl.col("flags").str.split(", "))
        .explode("flag")
        .filter(pl.col("flag").is_not_null() & (pl.col("flag") != ""))
        .group_by("flag")
        .agg(lines=pl.len(), entries=pl.col("entry_number").n_unique())
        .with_columns(other=~pl.col("flag").str.starts_with(UNCONFIRMED_PREFIX))
        .sort("other", "flag")  # UNCONFIRMED measures and fees first
    )


def _plural(n: int, word: str) -> str:
    if word == "entry":
        return f"{n} entr{'y' if n == 1 else 'ies'}"
    return f"{n} {word}{'' if n == 1 else 's'}"


def run_warnings(lines: pl.DataFrame | None, schedule: Schedule) -> list[str]:
    """Warnings for the run report from the lines' flags: every UNCONFIRMED measure or fee a
    line used (with its heading and the schedule's confidence note), then other flags."""
    if lines is None or lines.height == 0 or "flags" not in lines.columns:
        return []
    counts = _flag_counts(lines)
    measures = schedule.measures.select(
        "measure_id", "heading", "rate", "shape", "confidence_note", "legal_source"
    )
    fees = fee_rows(schedule).select(
        "fee_label", "valid_from", "rate", "confidence_note"
    ).unique("fee_label", keep="first", maintain_order=True)
    warnings: list[str] = []
    for row in counts.to_dicts():
        used = f"used by {_plural(row['lines'], 'line')} in {_plural(row['entries'], 'entry')}"
        flag = row["flag"]
        if not flag.startswith(UNCONFIRMED_PREFIX):
            warnings.append(f"{flag}: {used}")
            continue
        key = flag.removeprefix(UNCONFIRMED_PREFIX)
        measure = measures.filter(pl.col("measure_id") == key)
        fee = fees.filter(pl.col("fee_label") == key)
        if measure.height:
            m = measure.row(0, named=True)
            warnings.append(
                f"UNCONFIRMED measure {key} (heading {m['heading']}, {m['shape']} rate "
                f"{m['rate'].normalize()}, {m['legal_source']}): {m['confidence_note']}; {used}"
            )
        elif fee.height:
            f = fee.row(0, named=True)
            warnings.append(
                f"UNCONFIRMED fee {key} (from {f['valid_from']}, rate {f['rate'].normalize()}): "
                f"{f['confidence_note']}; {used}"
            )
        else:
            warnings.append(f"UNCONFIRMED {key}: {used}")
    return warnings


# --------------------------------------------------------------------------------------------
# rendering


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _seconds(timings: dict[str, float]) -> str:
    return ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in timings.items())


def _rate(rejected: int, rows_in: int) -> str:
    return f"{rejected / rows_in:.2%}" if rows_in else "0.00%"


def summary_lines(results: Sequence[RunResult]) -> list[str]:
    """The terminal summary: one month in full (`month_details`); several months as one short
    block each, a table of the amounts, then each input problem and warning once, with the
    months it applies to (`months_summary`)."""
    if len(results) > 1:
        return months_summary(results)
    return month_details(results)


def month_details(results: Sequence[RunResult]) -> list[str]:
    """Every month in full: counts, amounts, tables, time, error, problems, warnings."""
    out: list[str] = []
    for r in results:
        out.append(f"{r.month}  {r.status.upper()}  run {r.run_id}")
        by_input = (
            " (" + ", ".join(f"{kind} {n:,}" for kind, n in r.rows_in_by_input.items()) + ")"
            if len(r.rows_in_by_input) > 1
            else ""
        )
        out.append(
            f"  rows in {r.rows_in:,}{by_input}, rejected {r.rows_rejected:,} "
            f"({_rate(r.rows_rejected, r.rows_in)}), lines published {r.rows_published:,}"
        )
        if r.duty_by_program:
            out.append(
                "  USD by program: "
                + ", ".join(f"{k} {_money(v)}" for k, v in r.duty_by_program.items())
            )
        if r.tables:
            out.append("  tables: " + ", ".join(f"{t} {n:,}" for t, n in r.tables.items()))
        if r.status == "success" and r.replaced:
            out.append("  " + replaced_text(r))
        if r.stage_seconds:
            out.append("  time: " + _seconds(r.stage_seconds))
        if r.error:
            out.append(f"  error: {r.error}")
            if r.status == "failed":
                out.append("  nothing was published for this month")
        if r.problems:
            out.append("  worst input problems:")
            out.extend(f"    {p.source}: {p.describe()}" for p in r.problems)
        if r.warnings:
            out.append("  warnings:")
            out.extend(f"    {w}" for w in r.warnings)
    return out


def month_ranges(months: Sequence[str]) -> str:
    """Months as runs of consecutive months: `2025-01..2025-06, 2025-09`."""
    ordered = sorted(set(months))
    runs: list[list[str]] = []
    for month in ordered:
        if runs and _next_month(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}..{run[-1]}" for run in runs)


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12}-{number % 12 + 1:02d}"


_USED_BY = re.compile(r"^(?P<what>.*?)(?P<sep>[:;]) used by (?P<lines>\d+) lines? in (?P<entries>\d+) entr(?:y|ies)$")
_NUMBER = re.compile(r"\d[\d,.]*")


def collapsed_warnings(results: Sequence[RunResult]) -> list[str]:
    """Each warning once, with the months it applies to, UNCONFIRMED measures and fees first.
    A flag warning (`…: used by N lines in M entries`) is summed over the months; any other
    warning is grouped with those that differ from it only in their numbers, and shown with
    the figures of its latest month."""
    groups: dict[str, dict] = {}
    for r in results:
        for warning in r.warnings:
            used = _USED_BY.match(warning)
            key = used.group("what") if used else _NUMBER.sub("#", warning)
            group = groups.setdefault(
                key, {"months": [], "lines": 0, "entries": 0, "texts": set(), "text": warning,
                      "sep": used.group("sep") if used else ""}
            )
            group["months"].append(r.month)
            group["texts"].add(warning)
            group["text"] = warning
            if used:
                group["lines"] += int(used.group("lines"))
                group["entries"] += int(used.group("entries"))
    out = []
    for key, g in groups.items():
        months = month_ranges(g["months"])
        if g["sep"]:
            used = f"used by {_plural(g['lines'], 'line')} in {_plural(g['entries'], 'entry')}"
            out.append(f"{key}{g['sep']} {used} ({months})")
        elif len(g["texts"]) > 1:
            out.append(f"{g['text']} ({months}; figures of {g['months'][-1]})")
        else:
            out.append(f"{g['text']} ({months})")
    return sorted(out, key=lambda line: not line.startswith("UNCONFIRMED"))


def collapsed_problems(results: Sequence[RunResult]) -> list[str]:
    """Each input problem (source, column, check) once: rows over the months, the months, and
    the first example."""
    groups: dict[tuple[str, str, str], dict] = {}
    for r in results:
        for p in r.problems:
            group = groups.setdefault((p.source, p.column, p.check), {"rows": 0, "months": [], "example": None})
            group["rows"] += p.rows
            group["months"].append(r.month)
            if group["example"] is None and p.examples:
                row, value = p.examples[0]
                group["example"] = f"{r.month} row {row} {value!r}"
    return [
        f"{source}: {column} / {check}: {_plural(g['rows'], 'row')} ({month_ranges(g['months'])})"
        + (f", e.g. {g['example']}" if g["example"] else "")
        for (source, column, check), g in groups.items()
    ]


def months_summary(results: Sequence[RunResult]) -> list[str]:
    """Several months: one short block per month, the table of amounts, the problems and
    warnings once each."""
    out: list[str] = []
    for r in results:
        by_input = (
            " (" + ", ".join(f"{kind} {n:,}" for kind, n in r.rows_in_by_input.items()) + ")"
            if len(r.rows_in_by_input) > 1
            else ""
        )
        seconds = f", {sum(r.stage_seconds.values()):.1f} s" if r.stage_seconds else ""
        out.append(
            f"{r.month}  {r.status.upper():<7}  rows in {r.rows_in:,}{by_input}, rejected {r.rows_rejected:,} "
            f"({_rate(r.rows_rejected, r.rows_in)}), lines published {r.rows_published:,}{seconds}"
        )
        if r.error:
            out.append(f"  error: {r.error}")
            if r.status == "failed":
                out.append(f"  nothing was published for this month (run {r.run_id})")
    out.extend(amounts_table(results))
    problems = collapsed_problems(results)
    if problems:
        out.append("input problems (rows rejected; every row is in the rejects table):")
        out.extend(f"  {line}" for line in problems)
    warnings = collapsed_warnings(results)
    if warnings:
        out.append("warnings:")
        out.extend(f"  {line}" for line in warnings)
    return out


def amounts_table(results: Sequence[RunResult]) -> list[str]:
    """USD by program, one row per published month and a total row."""
    ok = [r for r in results if r.status == "success"]
    programs = list(dict.fromkeys(k for r in ok for k in r.duty_by_program))
    total: dict[str, Decimal] = {}
    for r in ok:
        for k, v in r.duty_by_program.items():
            total[k] = total.get(k, Decimal("0.00")) + v
    rows = [["USD", *programs]]
    rows += [[r.month, *(_money(r.duty_by_program.get(p, Decimal("0.00"))) for p in programs)] for r in ok]
    rows.append(["total", *(_money(total[p]) for p in programs)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = [
        f"{len(ok)} of {len(results)} months published; rows in "
        f"{sum(r.rows_in for r in results):,}, rejected {sum(r.rows_rejected for r in results):,}, "
        f"lines published {sum(r.rows_published for r in ok):,}" + ("; USD by program:" if programs else "")
    ]
    if not programs:
        return out
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))]
        if i == len(rows) - 1:
            out.append("  " + "  ".join("-" * width for width in widths))
        out.append("  " + "  ".join(cells))
    return out


def replaced_text(result: RunResult) -> str:
    """Which tables' rows of the month the run replaced, and whose rows they were."""
    tables = ", ".join(f"{t} ({n:,} rows)" for t, n in result.replaced.items())
    return f"replaced: {tables} of run {result.replaced_run}" if result.replaced_run else f"replaced: {tables}"


def summary_markdown(results: Sequence[RunResult]) -> str:
    """The same summary as a markdown artifact: one table row per month, then details."""
    programs = list(dict.fromkeys(k for r in results for k in r.duty_by_program))
    header = ["month", "status", "rows in", "rejected", "lines published", *programs, "seconds"]
    rows = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for r in results:
        cells = [
            r.month,
            r.status,
            f"{r.rows_in:,}",
            f"{r.rows_rejected:,}",
            f"{r.rows_published:,}",
            *[_money(r.duty_by_program[p]) if p in r.duty_by_program else "" for p in programs],
            f"{sum(r.stage_seconds.values()):.2f}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    details: list[str] = []
    # errors, problems and warnings quote input text (values, file names, makes, models):
    # escaped so it shows as written, never as markup
    for r in results:
        if r.error:
            details.append(f"- **{r.month}** failed: {escape(r.error)}")
        details.extend(f"- **{r.month}** {escape(p.source)}: {escape(p.describe())}" for p in r.problems)
        details.extend(f"- **{r.month}** warning: {escape(w)}" for w in r.warnings)
        if r.status == "success" and r.replaced:
            details.append(f"- **{r.month}** {escape(replaced_text(r))}")
    body = "\n".join(rows)
    if details:
        body += "\n\n" + "\n".join(details)
    return "# tariffcost run\n\n" + body + "\n"


def print_report_paths(reports: Sequence, stream: TextIO | None = None) -> None:
    """Where the month reports are: one line for one report, one line for the folder of
    several (`reports/<month>.html` for a range of months)."""
    stream = stream or sys.stdout
    folders = {str(Path(report.path).parent) for report in reports}
    if len(reports) > 1 and len(folders) == 1:
        months = month_ranges([report.month for report in reports])
        stream.write(f"reports: {folders.pop()}/YYYY-MM.html for {months}\n")
    else:
        stream.writelines(f"report {report.month}: {report.path}\n" for report in reports)
    stream.flush()


def print_summary(results: Sequence[RunResult], stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    stream.write("\n".join(summary_lines(results)) + "\n")
    stream.flush()


# --------------------------------------------------------------------------------------------
# progress


class RunProgress:
    """A rich progress display on stderr: months done, the current stage, and within a long
    stage how far it is (flows/progress.py: bytes read, tables published); Prefect's log
    lines are printed through the same console. Silent when stderr is not a terminal."""

    def __init__(self, months: int, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._months = months
        self._progress = None
        self._task = None
        self._step_task = None
        self._previous_listener = None
        self._prefect_consoles: list = []

    def __enter__(self) -> RunProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[counter]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("starting", total=self._months, counter=self._counter(0))
            self._step_task = self._progress.add_task("", total=None, visible=False, counter="")
            self._route_prefect_console(self._progress.console)
            from flows import progress

            self._previous_listener = progress.listen(self.step)
        return self

    def _counter(self, done: int) -> str:
        return f"{done}/{self._months} months"

    def _route_prefect_console(self, console) -> None:
        """Prefect's log lines go through the progress display's console while it is shown
        (printed above the bar instead of through it)."""
        import logging

        from prefect.logging.handlers import PrefectConsoleHandler

        self._prefect_consoles = [
            (handler, handler.console)
            for handler in logging.getLogger().handlers
            if isinstance(handler, PrefectConsoleHandler)
        ]
        for handler, _ in self._prefect_consoles:
            handler.console = console

    def stage(self, month: str, stage: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=f"{month} {stage}")
            self._progress.update(self._step_task, visible=False)

    def step(self, step: str, done: int, total: int | None, unit: str) -> None:
        """A long stage's report (flows/progress.py: `report`)."""
        if self._progress is not None:
            counter = f"{done:,}/{total:,} {unit}" if total else f"{done:,} {unit}"
            self._progress.update(
                self._step_task, description=f"  {step}", completed=done, total=total, counter=counter, visible=True
            )

    def month_done(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)
            done = int(self._progress.tasks[0].completed)
            self._progress.update(self._task, counter=self._counter(done))
            self._progress.update(self._step_task, visible=False)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            from flows import progress

            progress.listen(self._previous_listener)
            for handler, console in self._prefect_consoles:
                handler.console = console
            self._progress.__exit__(*exc)
