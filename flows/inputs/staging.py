"""The staging pipeline every input kind goes through: read → contract check → parse → row
checks → quarantine → staging schema.

A `Staging` names one kind's columns, its pandera contracts and its pure parse / checks /
stage functions (transforms/stg_*.py); `stage_input` runs the pipeline for a file of that
kind. Reading never infers a type: `read_raw` scans the file as all-text columns with its
1-based data row (`source_row`, flows/inputs/files.py `scan_text_table`: UTF-8 check and
streamed SHA-256, Parquet sniffing, the contract's columns), then `stage_rows` checks the raw
contract, parses the columns, flags every row rule (`transforms.rejects.RowCheck`), keeps the
rows of this load, splits passing rows from `rejects` rows (one set of reject columns for
every kind) and validates the staged table against its schema. A loader with its own way of
reading (a read-ahead, a broker's column map: flows/inputs/customs.py) reads into a
`RawInput` and calls `stage_rows` itself; `tariffcost validate` lists the rejects of a whole
file as Problems (`file_problems`). Schema-level problems raise `InputSchemaError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandera.polars as pa
import polars as pl

from flows.inputs.files import InputSchemaError, collect_frame, input_source, scan_text_table
from flows.inputs.problems import Problem, problems_from_rejects
from schemas.rejects import LoadRejects
from transforms.frames import constants_as_literals, stacked
from transforms.rejects import REJECT_COLUMNS, SOURCE_ROW, RowCheck, flag_failures, split_on_failures
from transforms.stg_customs_lines import month_total_problems

Select = Callable[[pl.LazyFrame], pl.LazyFrame]


@dataclass(frozen=True)
class LoadResult:
    """What a loader hands to the run for one input (and what `stage_rows` returns).

    stg: the staged rows that passed (only the requested month).
    rejects: source, row_number, column, check, value (the run adds `run_id`); from
    `stage_rows` also a human `message` per problem.
    rows_in: data rows read for the month, counting rows whose date could not be parsed.
    """

    stg: pl.DataFrame
    rejects: pl.DataFrame
    rows_in: int
    checksum_sha256: str
    source: str

    @property
    def rows_rejected(self) -> int:
        """Rejected rows (a row with several problems counts once)."""
        return self.rejects["row_number"].n_unique() if self.rejects.height else 0


@dataclass(frozen=True)
class Staging:
    """How to check, parse and stage one kind of input file.

    parse: all-text frame (with `source_row`) and the kind's reference facts (the schedule,
        the customs lines a vehicle references, …) → the same rows plus typed helper columns.
    checks: the row rules over the parsed frame, given its columns (`RowCheck`).
    stage: parsed rows that failed no check → the staged table, validated by `stg_schema`.
    raw_schema: the contract of the all-text frame, when the kind has one.
    parts: the raw rows in the order the staged table keeps, in parts that no row rule needs
        to see together, parsed, checked and staged one after the other (None: all at once,
        file order), so a part's helper columns are freed before the next is parsed.
    """

    name: str
    required_columns: tuple[str, ...]
    optional_columns: tuple[str, ...]
    stg_schema: type[pa.DataFrameModel]
    parse: Callable[[pl.DataFrame, Any], pl.DataFrame]
    checks: Callable[[Sequence[str]], Sequence[RowCheck]]
    stage: Callable[[pl.DataFrame], pl.DataFrame]
    raw_schema: type[pa.DataFrameModel] | None = None
    parts: Callable[[pl.DataFrame], Iterable[pl.DataFrame]] | None = None


@dataclass
class RawInput:
    """The all-text rows read from a file (with `source_row`, in file order), the file's
    SHA-256 and how rejects name it; `rejects`: rows refused while reading (a column map's),
    counted in and reported with the row rules' rejects. `check_rows` consumes the rows
    (`rows` is None after it): a large month's text is let go before its staged parts are
    put together, not held beside them."""

    rows: pl.DataFrame | None
    checksum_sha256: str
    source: str
    rejects: pl.DataFrame | None = None


def read_raw(path: Path, staging: Staging, select: Select | None = None, *, sheet: str | None = None) -> RawInput:
    """The all-text rows of `path` that `select` keeps (all when None), in file order.
    Schema-level problems raise InputSchemaError."""
    source = input_source(path, sheet)
    lazy, checksum = scan_text_table(path, staging.required_columns, staging.optional_columns, source, sheet)
    if collect_frame(lazy.head(1), source, "the first data row").height == 0:
        raise no_data_rows(source)
    # (a kind staged in parts takes the rows as read, in the file's row groups: its parts are
    # cut from them, and each row group freed once passed, with no copy into one piece)
    return RawInput(selected_rows(lazy, select, source, one_piece=staging.parts is None), checksum, source)


def no_data_rows(source: str) -> InputSchemaError:
    """The refusal of a file with a header and no data rows."""
    return InputSchemaError(source, "no_data_rows", "no data rows (only a header)")


def selected_rows(lazy: pl.LazyFrame, select: Select | None, source: str, *, one_piece: bool = True) -> pl.DataFrame:
    """The rows of an all-text scan that `select` keeps (all when None), in file order; with
    `one_piece`, one contiguous chunk per column: a Parquet file arrives in one chunk per row
    group, and every later step that mixes those columns with new single-chunk ones (parsed
    values, looked-up facts) would otherwise realign, i.e. copy, the whole frame each time
    (made a column at a time: the file's chunks are let go as each column is whole)."""
    rows = collect_frame(select(lazy) if select else lazy, source, "the data rows").sort(SOURCE_ROW)
    return stacked([rows]) if one_piece else rows


class Checked(NamedTuple):
    """Rows checked by their kind's rules: the staged rows that passed (or, `stage=False`, the
    parsed rows that passed), the rejects (with `message`) and how many rows were read for
    the load."""

    passed: pl.DataFrame
    rejects: pl.DataFrame
    rows_in: int


def _check_part(part: pl.DataFrame, staging: Staging, reference: Any, keep: pl.Expr | None, source: str
                ) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    parsed = staging.parse(part, reference)
    checks = staging.checks(parsed.columns)
    flagged = flag_failures(parsed, checks)
    if keep is not None:
        kept = flagged.select(keep.fill_null(False)).to_series()
        if not kept.all():  # (a one-month file keeps every row: no filtering copy)
            flagged = flagged.filter(kept)
    passed, rejects = split_on_failures(flagged, checks, source)
    return passed, rejects, flagged.height


def check_rows(raw: RawInput, staging: Staging, reference: Any, *, keep: pl.Expr | None = None,
               stage: bool = False) -> Checked:
    """Contract check, parse, row checks and quarantine of rows read as all text, part by
    part when the kind has `parts` (each part's passing rows staged at once with `stage`).

    reference: what the kind's `parse` looks facts up in (e.g. the schedule).
    keep: over the parsed frame, the rows that belong to this load (counted in `rows_in`,
        staged or rejected); the other rows only give context to window rules.
    """
    rows, raw.rows = raw.rows, None  # (consumed: this is the last reference to the text)
    if rows is None:
        raise ValueError(f"{raw.source}: its rows were checked already (check_rows consumes them)")
    if staging.raw_schema is not None:
        staging.raw_schema.validate(rows)
    passed, rejected, rows_in = [], [], 0
    parts = staging.parts(rows) if staging.parts is not None else iter([rows])
    del rows  # (the parts hold the text now: it goes with the last of them)
    for part in parts:
        part_passed, part_rejects, part_rows = _check_part(part, staging, reference, keep, raw.source)
        passed.append(staging.stage(part_passed) if stage else part_passed)
        rejected.append(part_rejects)
        rows_in += part_rows
        del part, part_passed  # (a part's parsed columns go before the next is parsed)
    del parts
    by_row = ["row_number", "column", "check"]
    rejects = rejected[0] if len(rejected) == 1 else pl.concat(rejected).sort(by_row, maintain_order=True)
    if raw.rejects is not None and raw.rejects.height:
        rows_in += raw.rejects["row_number"].n_unique()
        rejects = pl.concat([raw.rejects, rejects]).sort(by_row, maintain_order=True)
    return Checked(stacked(passed), rejects, rows_in)


def stage_rows(raw: RawInput, staging: Staging, reference: Any, *, keep: pl.Expr | None = None) -> LoadResult:
    """`check_rows`, the rows that passed staged, validated by the staging schema."""
    staged, rejects, rows_in = check_rows(raw, staging, reference, keep=keep, stage=True)
    # (a column with one value on every row, e.g. `month`, is then held as that value once)
    stg = constants_as_literals(staging.stg_schema.validate(staged))
    LoadRejects.validate(rejects.select(REJECT_COLUMNS))
    return LoadResult(stg, rejects, rows_in, raw.checksum_sha256, raw.source)


def file_problems(raw: RawInput, staging: Staging, reference: Any) -> list[Problem]:
    """Every row problem of a file read whole (`tariffcost validate`), by row then column."""
    return problems_from_rejects(check_rows(raw, staging, reference).rejects)


def stage_input(
    path: Path, staging: Staging, reference: Any, *, select: Select | None = None, keep: pl.Expr | None = None
) -> LoadResult:
    """Read `path` as `staging`'s kind, check every row, split passing rows from rejects.

    select: narrows the lazy all-text frame before it is collected (e.g. one month plus the
        rows the rules need for context); default: every row.
    keep: see `check_rows`."""
    return stage_rows(read_raw(Path(path), staging, select), staging, reference, keep=keep)


def load_result(staged: LoadResult, *, month_total_columns: Sequence[str] = (), result: type[LoadResult] = LoadResult,
           **fields: Any) -> LoadResult:
    """A loader's result from what `stage_rows` gave: the rejects with the reject columns only
    (no `message`), as `result` (a LoadResult subclass) with the kind's own `fields` (which may
    replace staged ones). InputSchemaError `month_total` when a month's sum of one of
    `month_total_columns` is above the per-month bound."""
    too_large = month_total_problems(staged.stg, month_total_columns)
    if too_large:
        raise InputSchemaError(staged.source, "month_total", "; ".join(too_large))
    values = {field.name: getattr(staged, field.name) for field in dataclasses.fields(LoadResult)}
    return result(**values | {"rejects": staged.rejects.select(REJECT_COLUMNS)} | fields)
