"""Customs column maps and Excel files: reading them (I/O).

`read_customs_map(spec)` reads a map by NAME (`data/maps/<NAME>.toml`, e.g. `ace_es003`) or
PATH and checks it (`schemas.customs_map`); `check_map_headers` refuses a map whose headers
are not in the file, before any row is read; `mapping_lines` is what `tariffcost validate
--customs-map` prints. `read_excel_text` reads one sheet of an Excel workbook as text (Polars'
`read_excel`, calamine engine, needs the `fastexcel` package): every cell as text, the sheet
named in every error.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from flows.config import MAPS_DIR
from schemas.customs_map import CustomsMap, CustomsMapError, parse_customs_map, required_columns

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


def is_excel(path: Path) -> bool:
    return Path(path).suffix.lower() in EXCEL_SUFFIXES


def shipped_maps() -> list[str]:
    """Names of the maps shipped in data/maps/."""
    return sorted(p.stem for p in MAPS_DIR.glob("*.toml"))


def customs_map_path(spec: str) -> Path:
    """The map file of `--customs-map NAME|PATH`: an existing file, else a shipped map name.
    CustomsMapError when neither."""
    path = Path(spec)
    if path.is_file():
        return path
    shipped = MAPS_DIR / f"{spec}.toml"
    if shipped.is_file():
        return shipped
    raise CustomsMapError(
        spec,
        "--customs-map",
        spec,
        f"neither a file nor a shipped map (shipped: {', '.join(shipped_maps()) or 'none'}, in {MAPS_DIR})",
    )


def read_customs_map(spec: str) -> CustomsMap:
    """The checked map of `--customs-map NAME|PATH` (CustomsMapError naming map, key, value)."""
    path = customs_map_path(spec)
    name = spec if path.parent == MAPS_DIR and path.stem == spec else str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CustomsMapError(name, "(file)", str(path), f"not a valid TOML file: {error}") from None
    return parse_customs_map(data, name)


def closest(header: str, candidates: Sequence[str]) -> str | None:
    """The candidate most like `header` (difflib, case-insensitive), or None."""
    lowered = {c.lower(): c for c in candidates}
    found = difflib.get_close_matches(header.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def check_map_headers(cmap: CustomsMap, headers: Sequence[str], source: str) -> None:
    """CustomsMapError for the first header of a required column the file lacks (with the
    closest header it has), or a mapped header the file has twice. The header of an optional
    column may be missing: the column is then absent, as in a contract file without it."""
    needed = required_columns(cmap.layout)
    for column, header in cmap.columns.items():
        if header not in headers and column in needed:
            near = closest(header, headers)
            hint = f"; closest header in the file: {near!r}" if near else ""
            raise CustomsMapError(cmap.name, f"columns.{column}", header, f"no such header in {source}{hint}")
        if list(headers).count(header) > 1:
            raise CustomsMapError(
                cmap.name, f"columns.{column}", header, f"the header appears more than once in {source}"
            )


def mapping_lines(cmap: CustomsMap, headers: Sequence[str]) -> list[str]:
    """How a file's headers map (`tariffcost validate --customs-map`): one line per mapped
    contract column (`source header → contract column`), then every header the map does not
    use, with the closest mapped-for header when one is near (a typo in the map or file)."""
    lines = [
        f"customs map {cmap.name} (layout {cmap.layout}"
        + (f", dates {cmap.date_format}" if cmap.date_format else "")
        + "):"
    ]
    needed = required_columns(cmap.layout)
    for column, header in cmap.columns.items():
        absent = "   MISSING from the file" if column in needed else "   not in the file (optional: left empty)"
        found = "" if header in headers else absent
        values = f"   values: {len(cmap.values[column])} mapped" if column in cmap.values else ""
        lines.append(f"  {header!r} -> {column}{values}{found}")
    missing = [h for c, h in cmap.columns.items() if h not in headers]
    unused = [h for h in headers if h not in cmap.columns.values()]
    for header in unused:
        near = closest(header, missing)
        hint = f" (close to the map's {near!r}, not found in the file)" if near else ""
        lines.append(f"  {header!r} not mapped (ignored){hint}")
    return lines


def sheet_name(path: Path, sheet: str | None, source: str) -> str:
    """The name of `sheet` in the workbook (default: its first sheet); ExcelError if none."""
    import fastexcel

    try:
        names = fastexcel.read_excel(str(path)).sheet_names
    except Exception as error:  # fastexcel raises its own error types for unreadable files
        raise ExcelError(source, None, f"cannot be read as an Excel workbook: {error}") from None
    if not names:
        raise ExcelError(source, None, "the workbook has no sheets")
    if sheet is None:
        return names[0]
    if sheet not in names:
        raise ExcelError(source, sheet, f"no such sheet (sheets: {', '.join(names)})")
    return sheet


class ExcelError(Exception):
    """An Excel file or sheet that cannot be read: names the file and the sheet."""

    def __init__(self, source: str, sheet: str | None, problem: str):
        where = f"{source}, sheet {sheet!r}" if sheet else source
        super().__init__(f"{where}: {problem}")
        self.source, self.sheet, self.problem = source, sheet, problem


def read_excel_text(path: Path, sheet: str | None, source: str) -> tuple[pl.DataFrame, str]:
    """(every cell of `sheet` (default: the first) as text, header row excluded; the sheet
    name). Numbers typed as numbers in Excel read as their shortest text (`30000`, `0.5`),
    dates typed as dates as `YYYY-MM-DD`."""
    name = sheet_name(path, sheet, source)
    try:
        frame = pl.read_excel(
            path,
            sheet_name=name,
            engine="calamine",
            infer_schema_length=0,
            drop_empty_rows=True,
            drop_empty_cols=False,
            raise_if_empty=False,
        )
    except Exception as error:
        raise ExcelError(source, name, f"cannot be read: {str(error).splitlines()[0]}") from None
    return frame.select(_as_text(c, frame.schema[c]) for c in frame.columns), name


def _as_text(column: str, dtype: pl.DataType) -> pl.Expr:
    value = pl.col(column)
    if dtype == pl.Utf8:
        return value
    if dtype == pl.Float64:  # 30000.0 → "30000"
        return (
            pl.when(value == value.round(0))
            .then(value.cast(pl.Int64, strict=False).cast(pl.Utf8))
            .otherwise(value.cast(pl.Utf8))
            .alias(column)
        )
    if dtype in (pl.Datetime, pl.Date):
        return value.cast(pl.Date).cast(pl.Utf8).alias(column)
    return value.cast(pl.Utf8).alias(column)
