"""What a month's run found, computed from its frames: the amounts by program, the warnings
from the lines' flags (every UNCONFIRMED measure or fee used, then the other flags) and the
worst input problems. Column logic only; flows/present/summary.py renders them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from transforms.fees import fee_rows
from transforms.schedule import Schedule

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
        return f"{self.column} / {self.check}: {plural(self.rows, 'row')} (e.g. {shown})"


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
        # (most lines have no flag: only the others are split; only the two columns read are
        # copied)
        lines.select("entry_number", "flags")
        .filter(pl.col("flags") != "")
        .select("entry_number", flag=pl.col("flags").str.split(", "))
        .explode("flag")
        .filter(pl.col("flag").is_not_null() & (pl.col("flag") != ""))
        .group_by("flag")
        .agg(lines=pl.len(), entries=pl.col("entry_number").n_unique())
        .with_columns(other=~pl.col("flag").str.starts_with(UNCONFIRMED_PREFIX))
        .sort("other", "flag")  # UNCONFIRMED measures and fees first
    )


def plural(n: int, word: str) -> str:
    """`1 line`, `2 lines`; `1 entry`, `2 entries`."""
    if word == "entry":
        return f"{n} entr{'y' if n == 1 else 'ies'}"
    return f"{n} {word}{'' if n == 1 else 's'}"


def used_by(lines: int, entries: int) -> str:
    """How many lines and entries a flag, measure or fee was used by."""
    return f"used by {plural(lines, 'line')} in {plural(entries, 'entry')}"


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
        used = used_by(row["lines"], row["entries"])
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
