"""The `load` and `validate` stages: read an input file as text, check every row, quarantine.

Reading never infers a type: every column is read as text (CSV) or cast to text (Parquet),
then parsed column-wise by the input kind's pure transform, so a bad value becomes a
`rejects` row instead of a crash. Schema-level problems (missing file or columns, wrong
delimiter, not UTF-8, no data rows, unreadable file) raise `InputSchemaError` naming the
file and the problem.

The machinery is generic over input kinds: an `InputKind` names its columns, its pandera
contracts and its pure parse / checks / stage functions (`register_input_kind`). Customs
entry lines are registered here; other kinds (vehicles, census) register a kind or a
validator of their own (`register_validator`) in their module, listed in `_KIND_MODULES`.

Large files: CSV and Parquet are scanned lazily; only the requested month's rows (plus the
other lines of the entries they belong to, needed for entry-level rules, and rows whose date
cannot be parsed) are collected. The byte pass that computes the checksum also proves the
file is UTF-8, reading it in fixed-size chunks. Measured on 2 cores: a 2.0 GB CSV (23 M rows)
loads one month (1.08 M rows) at a peak of about 1.6 GB of memory; the whole-file mode
(month None, `validate_file`) holds every row and needs about 10 times the file size.
"""

from __future__ import annotations

import dataclasses
import importlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandera.polars as pa
import polars as pl

from flows.inputs.customs_maps import check_map_headers, read_customs_map
from flows.inputs.files import (
    InputSchemaError,
    Problem,
    check_columns,
    collect_frame,
    file_headers,
    input_source,
    scan_text_table,
)
from flows.months import month_days, parse_month
from schemas.customs_map import CustomsMap
from schemas.raw_customs_lines import OPTIONAL_COLUMNS, OPTIONAL_TEXT_COLUMNS, REQUIRED_COLUMNS, RawCustomsLines
from schemas.rejects import LoadRejects
from schemas.stg_customs_lines import StgCustomsLines
from transforms.customs_map import ENTRY_DATE, apply_customs_map, fold_line_tariff_rows, without_rows
from transforms.frames import stacked
from transforms.rejects import (
    REJECT_COLUMNS,
    SOURCE_ROW,
    RowCheck,
    flag_failures,
    split_on_failures,
)
from transforms.schedule import Schedule
from transforms.stg_customs_lines import (
    customs_line_checks,
    entry_number_key,
    in_line_order_parts,
    iso_date,
    month_total_problems,
    parse_customs_lines,
    stage_customs_lines,
)

# Staged columns whose sum over a month is bounded (transforms/stg_customs_lines.py).
MONTH_TOTAL_COLUMNS = ("customs_value_usd", "quantity")


@dataclass(frozen=True)
class LoadResult:
    """What a loader hands to the run (customs lines; the partition merge of the cluster path
    rebuilds one from the partitions), and what `stage_input` returns for any input kind.

    stg: the staged rows that passed (only the requested month).
    rejects: source, row_number, column, check, value (the run adds `run_id`); from
    `stage_input` also a human `message` per problem.
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
class InputKind:
    """How to read, check and stage one kind of input file.

    parse: all-text frame (with `source_row`) → the same rows plus typed helper columns.
    checks: the row rules over the parsed frame (see `transforms.rejects.RowCheck`).
    stage: parsed rows that failed no check → the staged table, validated by `stg_schema`.
    """

    name: str
    required_columns: tuple[str, ...]
    optional_columns: tuple[str, ...]
    raw_schema: type[pa.DataFrameModel]
    stg_schema: type[pa.DataFrameModel]
    parse: Callable[[pl.DataFrame, Schedule], pl.DataFrame]
    checks: Callable[[], Sequence[RowCheck]]
    stage: Callable[[pl.DataFrame], pl.DataFrame]
    # the raw rows in the order the staged table keeps, in parts that no row rule needs to see
    # together, parsed, checked and staged one after the other (None: all at once, file order)
    parts: Callable[[pl.DataFrame], Iterable[pl.DataFrame]] | None = None


Validator = Callable[[Path, Schedule], list[Problem]]

INPUT_KINDS: dict[str, InputKind] = {}
_VALIDATORS: dict[str, Validator] = {}
# Modules that register the validators of kinds not defined here, imported on first use.
_KIND_MODULES = {"vehicles": "flows.inputs.vehicles", "census": "flows.inputs.census"}


def register_validator(name: str, validator: Validator) -> None:
    """Make `validate_file(path, name, schedule)` call `validator(path, schedule)`."""
    _VALIDATORS[name] = validator


def register_input_kind(kind: InputKind) -> None:
    """Register an input kind read by the generic machinery; its validator comes with it."""
    INPUT_KINDS[kind.name] = kind

    def validate(path: Path, schedule: Schedule) -> list[Problem]:
        return problems_from_rejects(stage_input(path, kind, schedule).rejects)

    register_validator(kind.name, validate)


# ---------------------------------------------------------------------------- staging


def read_mapped(path: Path, kind: InputKind, cmap: CustomsMap, source: str) -> tuple[pl.LazyFrame, str, pl.DataFrame]:
    """A broker's export through a customs map: (lazy all-text frame in the contract's
    columns, the file's SHA-256, rejects of the mapping and of the line_tariff_rows fold with
    `_entry_date`). The map's headers are checked against the file's before any row is read
    (CustomsMapError naming the map, key and header)."""
    present = file_headers(path, source, cmap.sheet)
    check_map_headers(cmap, present, source)
    headers = [h for h in dict.fromkeys(cmap.columns.values()) if h in present]
    lazy, checksum = scan_text_table(path, headers, (), source, cmap.sheet)
    raw = collect_frame(lazy, source, "the data rows").sort(SOURCE_ROW)
    if raw.height == 0:
        raise InputSchemaError(source, "no_data_rows", "no data rows (only a header)")
    mapped, rejects = apply_customs_map(raw, cmap, source)
    if cmap.layout == "line_tariff_rows":
        mapped, folded = fold_line_tariff_rows(mapped, source, rejects["row_number"])
        rejects = pl.concat([rejects, folded]).sort("row_number", "column", "check")
    else:
        mapped = without_rows(mapped, rejects)
    check_columns(mapped.columns, kind.required_columns, f"{source} through customs map {cmap.name}")
    return mapped.lazy(), checksum, rejects


def read_raw(
    path: Path,
    kind: InputKind,
    select: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None,
    *,
    prefetched: ReadAhead | None = None,
    sheet: str | None = None,
) -> tuple[pl.DataFrame, str]:
    """The all-text rows of `path` that `select` keeps (all when None), in file order, and
    the file's SHA-256. Schema-level problems raise InputSchemaError. A read-ahead of the
    same rows is used when the file has not changed since (same size, mtime and inode)."""
    if prefetched is not None:
        done = prefetched.result(path)
        if done is not None:  # read, checked and hashed in the read-ahead, file unchanged
            return done
    source = input_source(path, sheet)
    lazy, checksum = scan_text_table(path, kind.required_columns, kind.optional_columns, source, sheet)
    if collect_frame(lazy.head(1), source, "the first data row").height == 0:
        raise InputSchemaError(source, "no_data_rows", "no data rows (only a header)")
    # one contiguous chunk per column: a Parquet file arrives in one chunk per row group, and
    # every later step that mixes those columns with new single-chunk ones (parsed values,
    # looked-up facts) would otherwise realign, i.e. copy, the whole frame each time (made a
    # column at a time: the file's chunks are let go as each column is whole)
    raw = stacked([collect_frame(select(lazy) if select else lazy, source, "the data rows").sort(SOURCE_ROW)])
    return raw, checksum


def _file_identity(path: Path) -> tuple[int, int, int, int]:
    stat = path.stat()
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


class ReadAhead:
    """One month of a customs file read in a background thread (`read_ahead`), e.g. while
    Prefect's temporary API boots; `result(path)` waits for it and gives what `read_raw`
    gave (the rows and the file's SHA-256), or None when the read failed or the file changed
    since (the loader then reads it itself)."""

    def __init__(self, path: Path, month: str) -> None:
        self.path, self.month = Path(path), month
        self._done: tuple[pl.DataFrame, str] | None = None
        self._identity: tuple[int, int, int, int] | None = None
        self._thread = threading.Thread(target=self._read, name="customs-read-ahead", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            identity = _file_identity(self.path)
            kind = INPUT_KINDS["customs"]
            done = read_raw(self.path, kind, _month_select(self.month, str(self.path)))
            if _file_identity(self.path) == identity:
                self._done, self._identity = done, identity
        except Exception:  # the loader reads the file itself and reports the problem
            self._done = None

    def result(self, path: Path) -> tuple[pl.DataFrame, str] | None:
        self._thread.join()
        done, self._done = self._done, None  # handed over once
        if done is None or Path(path) != self.path:
            return None
        try:
            unchanged = _file_identity(self.path) == self._identity
        except OSError:
            return None
        return done if unchanged else None


_READ_AHEAD: dict[tuple[str, str], ReadAhead] = {}


def read_ahead(path: Path, month: str) -> None:
    """Start reading `month` of the customs file `path` in the background; the next
    `load_customs_lines(path, month, ...)` in this process uses the rows if the file is
    unchanged by then."""
    _READ_AHEAD[(str(Path(path)), month)] = ReadAhead(Path(path), month)


def stage_input(
    path: Path,
    kind: InputKind,
    schedule: Schedule,
    *,
    select: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None,
    keep: pl.Expr | None = None,
    prefetched: ReadAhead | None = None,
    customs_map: CustomsMap | None = None,
) -> LoadResult:
    """Read `path` as `kind`, check every row, split passing rows from rejects.

    select: narrows the lazy all-text frame before it is collected (e.g. one month plus the
        rows the rules need for context); default: every row.
    keep: over the parsed frame, the rows that belong to this load (counted in `rows_in`,
        staged or rejected); the other collected rows only give context to window rules.
    prefetched: a read-ahead of the same rows (`read_ahead`), used if the file is unchanged.
    customs_map: the export's column map (`read_customs_map`), applied right after reading
        the text columns, before the contract's rules; its own rejects (dates not in the
        map's format, line_tariff_rows that do not fold) join the rows' rejects.
    """
    mapped_rejects = None
    if customs_map is not None:
        source = input_source(path, customs_map.sheet)
        lazy, checksum, mapped_rejects = read_mapped(path, kind, customs_map, source)
        raw = collect_frame(select(lazy) if select else lazy, source, "the data rows").sort(SOURCE_ROW).rechunk()
        if keep is not None:  # the month's rejects (keep reads `_entry_date` only)
            mapped_rejects = mapped_rejects.filter(keep.fill_null(True))
        mapped_rejects = mapped_rejects.drop(ENTRY_DATE)
    else:
        raw, checksum = read_raw(path, kind, select, prefetched=prefetched)
        source = input_source(path)
    kind.raw_schema.validate(raw)
    checks = kind.checks()
    staged, rejected, rows_in = [], [], 0
    for part in kind.parts(raw) if kind.parts is not None else [raw]:
        flagged = flag_failures(kind.parse(part, schedule), checks)
        if keep is not None:
            kept = flagged.select(keep.fill_null(False)).to_series()
            if not kept.all():  # (a one-month file keeps every row: no filtering copy)
                flagged = flagged.filter(kept)
        passed, part_rejects = split_on_failures(flagged, checks, source)
        rows_in += flagged.height
        staged.append(kind.stage(passed))
        rejected.append(part_rejects)
        del part, flagged, passed  # (a part's parsed columns go before the next is parsed)
    del raw
    by_row = ["row_number", "column", "check"]
    rejects = rejected[0] if len(rejected) == 1 else pl.concat(rejected).sort(by_row, maintain_order=True)
    if mapped_rejects is not None and mapped_rejects.height:
        rows_in += mapped_rejects["row_number"].n_unique()
        rejects = pl.concat([mapped_rejects, rejects]).sort(by_row, maintain_order=True)
    stg = kind.stg_schema.validate(stacked(staged))
    LoadRejects.validate(rejects.select(REJECT_COLUMNS))
    return LoadResult(stg, rejects, rows_in, checksum, source)


def _in_month(date: pl.Expr, month: str) -> pl.Expr:
    """`date` falls in `month` (YYYY-MM): a range test, no per-row formatting."""
    first, after = month_days(month)
    return (date >= first) & (date < after)


def _month_select(month: str, source: str) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    """Rows dated in `month`, rows whose date does not parse, and every other line of the
    entries dated in `month` (entry-level rules compare all lines of an entry). A file
    holding nothing but that month (the usual monthly extract) is taken whole after one scan
    of its date column."""

    def select(lazy: pl.LazyFrame) -> pl.LazyFrame:
        date = iso_date("entry_date")
        in_month = _in_month(date, month)
        # each distinct date text parsed once (a month's file has a few dozen)
        dates = collect_frame(lazy.group_by("entry_date").len(), source, "the entry dates")
        others = dates.select(pl.col("len").filter(date.is_not_null() & ~in_month).sum()).item()
        if others == 0:
            return lazy
        entries = collect_frame(
            lazy.filter(in_month).select(entry_number_key().alias("key")).unique(),
            source,
            "the entry numbers of the month",
        )["key"]
        return lazy.filter(in_month | date.is_null() | entry_number_key().is_in(entries.implode()))

    return select


def _stage_customs(
    path: Path,
    month: str | None,
    schedule: Schedule,
    rows: pl.Expr | None = None,
    customs_map: CustomsMap | None = None,
) -> LoadResult:
    kind = INPUT_KINDS["customs"]
    if month is None:
        select = (lambda lazy: lazy.filter(rows)) if rows is not None else None
        return stage_input(path, kind, schedule, select=select, customs_map=customs_map)
    parse_month(month)  # ValueError for a malformed month
    date = pl.col("_entry_date")
    in_month = _month_select(month, str(path))
    return stage_input(
        path,
        kind,
        schedule,
        select=(lambda lazy: in_month(lazy.filter(rows))) if rows is not None else in_month,
        keep=date.is_null() | _in_month(date, month),
        prefetched=_READ_AHEAD.pop((str(path), month), None) if rows is None and customs_map is None else None,
        customs_map=customs_map,
    )


def load_customs_lines(
    path: Path,
    month: str | None,
    schedule: Schedule,
    *,
    rows: pl.Expr | None = None,
    customs_map: str | CustomsMap | None = None,
) -> LoadResult:
    """Load one month (`YYYY-MM`, by entry_date) of a customs lines file, or all of it
    (month None). Rows breaking a row rule go to `rejects`; rows whose date does not parse
    are counted in and rejected whatever the month. Raises InputSchemaError for schema-level
    problems and ValueError for a malformed month.

    rows: over the raw all-text columns, only the rows to load (e.g. one entry-number hash
    partition of a large month, flows/run/distributed.py); it must keep or drop whole entries,
    since entry-level rules compare all lines of an entry.
    customs_map: `--customs-map NAME|PATH` (or a read map) the file is read through."""
    if isinstance(customs_map, str):
        customs_map = read_customs_map(customs_map)
    staged = _stage_customs(Path(path), month, schedule, rows, customs_map)
    too_large = month_total_problems(staged.stg, MONTH_TOTAL_COLUMNS)
    if too_large:
        raise InputSchemaError(staged.source, "month_total", "; ".join(too_large))
    return dataclasses.replace(staged, rejects=staged.rejects.select(REJECT_COLUMNS))


# ---------------------------------------------------------------------------- validate


def problems_from_rejects(rejects: pl.DataFrame) -> list[Problem]:
    """Rejects rows (with `message`) as Problems, sorted by row, then column, then check."""
    ordered = rejects.sort(["row_number", "column", "check"])
    return [
        Problem(
            file=row["source"],
            row=row["row_number"],
            column=row["column"],
            value=row["value"],
            check=row["check"],
            message=row["message"],
        )
        for row in ordered.iter_rows(named=True)
    ]


def validate_file(
    path: Path, kind: str, schedule: Schedule, customs_map: CustomsMap | None = None
) -> list[Problem]:
    """Every problem of an input file against its contract (`tariffcost validate`): one
    Problem per failing (row, check), sorted by row then column; a schema-level problem is
    a single Problem with row None. Prints nothing. Raises ValueError for an unknown kind
    (or a customs map given for a kind other than customs)."""
    if customs_map is not None:
        if kind != "customs":
            raise ValueError(f"--customs-map applies to --kind customs only, not {kind!r}")
        try:
            staged = stage_input(Path(path), INPUT_KINDS["customs"], schedule, customs_map=customs_map)
        except InputSchemaError as error:
            return [Problem(error.file, None, error.column, None, error.check, error.problem)]
        return problems_from_rejects(staged.rejects)
    if kind not in _VALIDATORS and kind in _KIND_MODULES:
        importlib.import_module(_KIND_MODULES[kind])
    if kind not in _VALIDATORS:
        known = ", ".join(sorted(_VALIDATORS)) or "none"
        raise ValueError(f"no validator registered for input kind {kind!r} (registered: {known})")
    try:
        return _VALIDATORS[kind](Path(path), schedule)
    except InputSchemaError as error:
        return [
            Problem(
                file=error.file,
                row=None,
                column=error.column,
                value=None,
                check=error.check,
                message=error.problem,
            )
        ]


register_input_kind(
    InputKind(
        name="customs",
        required_columns=REQUIRED_COLUMNS,
        optional_columns=(*OPTIONAL_COLUMNS, *OPTIONAL_TEXT_COLUMNS),
        raw_schema=RawCustomsLines,
        stg_schema=StgCustomsLines,
        parse=lambda raw, schedule: parse_customs_lines(raw, schedule.mfn),
        checks=customs_line_checks,
        stage=stage_customs_lines,
        parts=in_line_order_parts,
    )
)

__all__ = [
    "INPUT_KINDS",
    "InputKind",
    "InputSchemaError",
    "LoadResult",
    "Problem",
    "load_customs_lines",
    "problems_from_rejects",
    "register_input_kind",
    "register_validator",
    "scan_text_table",
    "stage_input",
    "validate_file",
]
