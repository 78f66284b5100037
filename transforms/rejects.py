"""Row checks and the `rejects` rows they produce (pure Polars, no I/O).

A loader parses an all-text input frame into typed helper columns, then evaluates a table of
`RowCheck`s over it. Every failing (row, check) pair becomes one `rejects` row; a row with at
least one failure is rejected once and kept out of the staged table. Any input kind (customs
lines, vehicles, census) reuses this with its own check table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import polars as pl

SOURCE_ROW = "source_row"
# The columns (and dtypes) of a loader's reject rows, for every input kind (the run adds run_id).
REJECT_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.Utf8, "row_number": pl.Int64, "column": pl.Utf8, "check": pl.Utf8, "value": pl.Utf8,
}
REJECT_COLUMNS: tuple[str, ...] = tuple(REJECT_SCHEMA)
_FAIL_PREFIX = "__fails_"


class RowCheck(NamedTuple):
    """One row-level rule.

    column: the input column reported in `rejects.column` (composite keys: "a,b").
    check:  the rule's name, reported in `rejects.check` (e.g. `hts8_in_schedule`).
    fails:  boolean expression over the parsed frame, true where the row breaks the rule;
            null counts as passing (rules on empty values are the `not_empty` check's job).
    rule:   what the rule demands, in words, for people reading the problem.
    value:  expression giving the offending value as text; default: the raw column (an empty
            cell is reported as null).
    detail: optional text expression appended to the rule (e.g. the expected unit).
    """

    column: str
    check: str
    fails: pl.Expr
    rule: str
    value: pl.Expr | None = None
    detail: pl.Expr | None = None


def one_of(column: str, check: str, parsed: pl.Expr, allowed: tuple[str, ...]) -> RowCheck:
    """The rule "the parsed value of `column` is one of `allowed`"."""
    return RowCheck(column, check, ~parsed.is_in(allowed), "must be one of " + ", ".join(allowed))


def _fail_column(index: int) -> str:
    return f"{_FAIL_PREFIX}{index}"


def _value_text(check: RowCheck) -> pl.Expr:
    """The offending value as text; an empty cell is null (whitespace is kept as found)."""
    value = (check.value if check.value is not None else pl.col(check.column)).cast(pl.Utf8)
    return pl.when(value != "").then(value)


def flag_failures(frame: pl.DataFrame, checks: Sequence[RowCheck]) -> pl.DataFrame:
    """`frame` plus one boolean column per check (true = the row fails it), evaluated at once
    over the whole frame, so window rules (uniqueness, per-entry agreement) see every row."""
    return frame.with_columns(
        check.fails.fill_null(False).alias(_fail_column(i)) for i, check in enumerate(checks)
    )


def split_on_failures(
    flagged: pl.DataFrame, checks: Sequence[RowCheck], source: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a frame from `flag_failures` into (rows failing no check, rejects rows).

    The passing frame loses the flag columns. The rejects frame has one row per failing
    (row, check): source, row_number, column, check, value (text, may be null) and message,
    sorted by row_number, column, check."""
    flags = [_fail_column(i) for i in range(len(checks))]
    failing = flagged.select(pl.col(flags).any()).row(0) if flags else ()
    if any(failing):
        passed = flagged.filter(~pl.any_horizontal(flags)).drop(flags)
    else:  # nothing failed: no filtering copy of the whole frame
        passed = flagged.drop(flags)
    parts = [
        flagged.filter(pl.col(_fail_column(i))).select(
            pl.lit(source, dtype=pl.Utf8).alias("source"),
            pl.col(SOURCE_ROW).cast(pl.Int64).alias("row_number"),
            pl.lit(check.column, dtype=pl.Utf8).alias("column"),
            pl.lit(check.check, dtype=pl.Utf8).alias("check"),
            _value_text(check).alias("value"),
            (
                pl.lit(check.rule, dtype=pl.Utf8)
                if check.detail is None
                else pl.concat_str(
                    pl.lit(check.rule), pl.lit(" ("), check.detail.fill_null("?"), pl.lit(")")
                )
            ).alias("message"),
        )
        for i, check in enumerate(checks)
        if failing[i]
    ]
    rejects = pl.concat(parts, how="vertical") if parts else empty_rejects(with_message=True)
    return passed, rejects.sort(["row_number", "column", "check"], maintain_order=True)


def empty_rejects(*, with_message: bool = False) -> pl.DataFrame:
    """A rejects frame with no rows (the loader's columns; `message` on request)."""
    schema = {
        "source": pl.Utf8,
        "row_number": pl.Int64,
        "column": pl.Utf8,
        "check": pl.Utf8,
        "value": pl.Utf8,
    }
    if with_message:
        schema["message"] = pl.Utf8
    return pl.DataFrame(schema=schema)


def rejected_row_count(rejects: pl.DataFrame) -> int:
    """Rows rejected (a row failing several checks counts once)."""
    return rejects["row_number"].n_unique() if rejects.height else 0


def with_run_id(rejects: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """The loader's rejects rows as `rejects` table rows: contract columns plus `run_id`."""
    return rejects.select(
        *REJECT_COLUMNS, pl.lit(run_id, dtype=pl.Utf8).alias("run_id")
    )
