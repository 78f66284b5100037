"""The customs entry lines input: one month of a customs lines file through the staging
pipeline (flows/inputs/staging.py), with the rules of transforms/stg_customs_lines.py.

What is customs-specific is how the rows are chosen and read: only the requested month's rows
(plus the other lines of the entries they belong to, needed for entry-level rules, and rows
whose date cannot be parsed) are collected from the lazy all-text scan; a broker's export is
read through its column map (`--customs-map`, flows/inputs/customs_maps.py); and `tariffcost
run` reads the month ahead in a background thread while Prefect starts (`read_ahead`).

Large files: measured on 2 cores, a 2.0 GB CSV (23 M rows) loads one month (1.08 M rows) at a
peak of about 1.6 GB of memory; the whole-file mode (month None, `tariffcost validate`) holds
every row and needs about 10 times the file size.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import polars as pl

from flows.inputs.customs_maps import check_map_headers, read_customs_map
from flows.inputs.files import (
    check_columns,
    collect_frame,
    file_headers,
    input_source,
    scan_text_table,
)
from flows.inputs.problems import Problem
from flows.inputs.staging import (
    LoadResult,
    RawInput,
    Select,
    Staging,
    file_problems,
    load_result,
    no_data_rows,
    read_raw,
    selected_rows,
    stage_rows,
)
from flows.months import month_days, parse_month
from schemas.customs_map import CustomsMap
from schemas.raw_customs_lines import RawCustomsLines
from schemas.stg_customs_lines import StgCustomsLines
from transforms.customs_columns import OPTIONAL_COLUMNS, OPTIONAL_TEXT_COLUMNS, REQUIRED_COLUMNS
from transforms.customs_map import ENTRY_DATE, apply_customs_map, fold_line_tariff_rows, without_rows
from transforms.rejects import SOURCE_ROW
from transforms.schedule import Schedule
from transforms.stg_customs_lines import (
    customs_line_checks,
    entry_number_key,
    in_line_order_parts,
    iso_date,
    parse_customs_lines,
    stage_customs_lines,
)

# Staged columns whose sum over a month is bounded (transforms/stg_customs_lines.py).
MONTH_TOTAL_COLUMNS = ("customs_value_usd", "quantity")

CUSTOMS = Staging(
    name="customs",
    required_columns=REQUIRED_COLUMNS,
    optional_columns=(*OPTIONAL_COLUMNS, *OPTIONAL_TEXT_COLUMNS),
    raw_schema=RawCustomsLines,
    stg_schema=StgCustomsLines,
    parse=lambda raw, schedule: parse_customs_lines(raw, schedule.mfn),
    checks=lambda columns: customs_line_checks(),
    stage=stage_customs_lines,
    parts=in_line_order_parts,
)


# ---------------------------------------------------------------------------- reading


def read_mapped(path: Path, cmap: CustomsMap, select: Select | None, keep: pl.Expr | None) -> RawInput:
    """A broker's export through a customs map: the rows `select` keeps, in the contract's
    columns (all text), with the rejects of the mapping and of the line_tariff_rows fold
    (those of the rows `keep` keeps: it reads `_entry_date` only). The map's headers are
    checked against the file's before any row is read (CustomsMapError naming the map, key
    and header)."""
    source = input_source(path, cmap.sheet)
    present = file_headers(path, source, cmap.sheet)
    check_map_headers(cmap, present, source)
    headers = [h for h in dict.fromkeys(cmap.columns.values()) if h in present]
    lazy, checksum = scan_text_table(path, headers, (), source, cmap.sheet)
    raw = collect_frame(lazy, source, "the data rows").sort(SOURCE_ROW)
    if raw.height == 0:
        raise no_data_rows(source)
    mapped, rejects = apply_customs_map(raw, cmap, source)
    if cmap.layout == "line_tariff_rows":
        mapped, folded = fold_line_tariff_rows(mapped, source, rejects["row_number"])
        rejects = pl.concat([rejects, folded]).sort("row_number", "column", "check")
    else:
        mapped = without_rows(mapped, rejects)
    check_columns(mapped.columns, CUSTOMS.required_columns, f"{source} through customs map {cmap.name}")
    lazy = mapped.lazy()
    rows = selected_rows(lazy, select, source)
    if keep is not None:  # the month's rejects
        rejects = rejects.filter(keep.fill_null(True))
    return RawInput(rows, checksum, source, rejects.drop(ENTRY_DATE))


def _file_identity(path: Path) -> tuple[int, int, int, int]:
    stat = path.stat()
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


class ReadAhead:
    """One month of a customs file read in a background thread (`read_ahead`), e.g. while
    Prefect's temporary API boots; `result(path)` waits for it and gives what `read_raw`
    gave, or None when the read failed or the file changed since (the loader then reads it
    itself)."""

    def __init__(self, path: Path, month: str) -> None:
        self.path, self.month = Path(path), month
        self._done: RawInput | None = None
        self._identity: tuple[int, int, int, int] | None = None
        self._thread = threading.Thread(target=self._read, name="customs-read-ahead", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            identity = _file_identity(self.path)
            done = read_raw(self.path, CUSTOMS, _month_select(self.month, str(self.path)))
            if _file_identity(self.path) == identity:
                self._done, self._identity = done, identity
        except Exception:  # the loader reads the file itself and reports the problem
            self._done = None

    def result(self, path: Path) -> RawInput | None:
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


# ---------------------------------------------------------------------------- one month


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


def _read_customs(
    path: Path, month: str | None, rows: pl.Expr | None = None, customs_map: CustomsMap | None = None
) -> tuple[RawInput, pl.Expr | None]:
    """The rows of `month` (None: every row) that `rows` keeps, read through `customs_map`
    when given or taken from a read-ahead of the same month; and the `keep` expression of
    the month's rows (the others only give context to the entry rules)."""
    partition: Select | None = (lambda lazy: lazy.filter(rows)) if rows is not None else None
    keep = select = prefetched = None
    if month is not None:
        parse_month(month)  # ValueError for a malformed month
        date = pl.col("_entry_date")
        keep = date.is_null() | _in_month(date, month)
        in_month = _month_select(month, str(path))
        select = (lambda lazy: in_month(partition(lazy))) if partition is not None else in_month
        if rows is None and customs_map is None:
            prefetched = _READ_AHEAD.pop((str(path), month), None)
    else:
        select = partition
    if customs_map is not None:
        return read_mapped(path, customs_map, select, keep), keep
    raw = (prefetched.result(path) if prefetched is not None else None) or read_raw(path, CUSTOMS, select)
    return raw, keep


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
    partition of a large month, flows/run/cluster_months.py); it must keep or drop whole
    entries, since entry-level rules compare all lines of an entry.
    customs_map: `--customs-map NAME|PATH` (or a read map) the file is read through."""
    if isinstance(customs_map, str):
        customs_map = read_customs_map(customs_map)
    raw, keep = _read_customs(Path(path), month, rows, customs_map)
    return load_result(stage_rows(raw, CUSTOMS, schedule, keep=keep), month_total_columns=MONTH_TOTAL_COLUMNS)


def validate_customs_file(path: Path, schedule: Schedule, customs_map: CustomsMap | None = None) -> list[Problem]:
    """Every row problem of a customs lines file, read through `customs_map` when given
    (`tariffcost validate --kind customs`)."""
    raw, _ = _read_customs(Path(path), None, customs_map=customs_map)
    return file_problems(raw, CUSTOMS, schedule)
