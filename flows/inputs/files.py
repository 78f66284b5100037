"""Reading an input file, whatever its kind: the checks on the file as a whole and the
all-text scan every loader starts from.

`scan_text_table` refuses a missing or empty file, non-UTF-8 text (proved by the same streamed
pass that computes the file's SHA-256, in fixed-size chunks), a wrong delimiter, missing or
repeated contract columns, and a file that cannot be read as CSV, Parquet, Excel or a JSON
array of arrays, raising `InputSchemaError` naming the file and the problem;
`InputSchemaError.as_problem` is the refusal as `tariffcost validate` lists it. `is_parquet`
and `is_json_table` are the one place that tells the formats apart.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from flows import progress
from flows.inputs.customs_maps import ExcelError, is_excel, read_excel_text, sheet_name
from flows.inputs.problems import Problem
from transforms.rejects import SOURCE_ROW

CHUNK_BYTES = 8 * 1024 * 1024
PARQUET_MAGIC = b"PAR1"
PARQUET_SUFFIXES = (".parquet", ".pq")
JSON_SUFFIX = ".json"
UTF8_BOM = codecs.BOM_UTF8
OTHER_DELIMITERS = {";": "';'", "\t": "tab", "|": "'|'"}
# Row index while reading, renamed to source_row (a file may have a column of that name).
ROW_INDEX = "__tariffcost_row_index"


class InputSchemaError(Exception):
    """A schema-level problem with an input file: the whole file is refused.

    `file` is the path as given, `check` a short name of the problem (e.g. `missing_columns`,
    `not_utf8`, `delimiter`, `no_data_rows`) and `column` the column concerned, if one is."""

    def __init__(self, file: str, check: str, problem: str, column: str | None = None):
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.check = check
        self.problem = problem
        self.column = column

    def as_problem(self) -> Problem:
        """The refusal as the one Problem of the file (`tariffcost validate`; row None)."""
        return Problem(self.file, None, self.column, None, self.check, self.problem)


def sha256_and_utf8(path: Path, source: str, *, check_utf8: bool) -> str:
    """SHA-256 of the file bytes; with check_utf8, refuse bytes that are not UTF-8, naming the
    byte offset and line. Reads fixed-size chunks, so memory does not grow with the file."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    lines_before = 0
    size = path.stat().st_size
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            progress.report(f"reading {path.name}", offset + len(chunk), size, "bytes")
            digest.update(chunk)
            if check_utf8:
                buffer = decoder.getstate()[0] + chunk
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    bad = offset - (len(buffer) - len(chunk)) + error.start
                    line = lines_before + buffer[: error.start].count(b"\n") + 1
                    byte = buffer[error.start : error.start + 1].hex()
                    raise InputSchemaError(
                        source,
                        "not_utf8",
                        f"not UTF-8 text: byte 0x{byte} at byte offset {bad} (line {line}); "
                        "save the file as UTF-8",
                    ) from None
                lines_before += chunk.count(b"\n")
            offset += len(chunk)
    if check_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputSchemaError(
                source,
                "not_utf8",
                "not UTF-8 text: truncated character at the end of the file (byte offset "
                f"{offset - len(decoder.getstate()[0])})",
            ) from None
    return digest.hexdigest()


def first_line(path: Path) -> str:
    """The header line of a (UTF-8 checked) CSV file, BOM and line end removed."""
    with path.open("rb") as handle:
        head = handle.readline(1024 * 1024)
    return head.removeprefix(UTF8_BOM).decode("utf-8", errors="replace").rstrip("\r\n")


def split_header(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def check_columns(
    columns: Sequence[str], required: Sequence[str], source: str, header: str | None = None
) -> None:
    """Refuse a file whose header lacks required columns (hinting at a wrong delimiter) or
    repeats a contract column."""
    missing = [c for c in required if c not in columns]
    if missing and header is not None:
        for delimiter, name in OTHER_DELIMITERS.items():
            split = split_header(header, delimiter)
            if len(split) > 1 and sum(c in split for c in required) > len(required) - len(missing):
                raise InputSchemaError(
                    source,
                    "delimiter",
                    f"the header does not split into the contract columns on ','; the "
                    f"delimiter looks like {name}: write a comma-separated file",
                )
    if missing:
        raise InputSchemaError(
            source,
            "missing_columns",
            f"missing required columns: {', '.join(missing)} "
            f"(found: {', '.join(columns) if columns else 'no columns'})",
            column=",".join(missing),
        )
    repeated = sorted({c for c in columns if c in required and list(columns).count(c) > 1})
    if repeated:
        raise InputSchemaError(
            source, "duplicate_columns", f"columns appear more than once: {', '.join(repeated)}"
        )


def is_parquet(path: Path) -> bool:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return True
    with path.open("rb") as handle:
        return handle.read(len(PARQUET_MAGIC)) == PARQUET_MAGIC


def is_json_table(path: Path) -> bool:
    """A JSON array of arrays (the Census API's format): its first character is `[`."""
    if path.suffix.lower() == JSON_SUFFIX:
        return True
    with path.open("rb") as handle:
        return handle.read(64).lstrip(UTF8_BOM + b" \r\n\t").startswith(b"[")


def _json_table(path: Path, sheet: str | None, source: str) -> pl.DataFrame:
    """A JSON array of arrays, header row first, as an all-text frame with `ROW_INDEX`
    (1-based data row). `sheet` is unused (the whole-file readers' interface)."""
    del sheet
    try:
        rows = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputSchemaError(source, "unreadable", f"cannot be read as JSON: {error}") from None
    if not isinstance(rows, list) or len(rows) < 2 or not all(isinstance(row, list) for row in rows):
        raise InputSchemaError(source, "unreadable", "expected a JSON array of arrays with a header row and data rows")
    header = [str(h) for h in rows[0]]
    frame = pl.DataFrame(
        [[None if v is None else str(v) for v in row] for row in rows[1:]],
        schema={h: pl.Utf8 for h in header},
        orient="row",
    )
    return frame.with_row_index(ROW_INDEX, offset=1)


def _excel_table(path: Path, sheet: str | None, source: str) -> pl.DataFrame:
    """One sheet of a workbook as an all-text frame with `ROW_INDEX` (1-based data row)."""
    try:
        frame, _ = read_excel_text(path, sheet, source)
    except ExcelError as error:
        named = error.sheet is None or f"sheet {error.sheet}" in source
        problem = error.problem if named else f"sheet {error.sheet!r}: {error.problem}"
        raise InputSchemaError(source, "unreadable", problem) from None
    if not frame.columns:
        raise InputSchemaError(source, "no_data_rows", "empty sheet: no header and no data rows")
    return frame.with_row_index(ROW_INDEX, offset=1)


def input_source(path: Path, sheet: str | None = None) -> str:
    """How rejects and errors name an input: the path; for a workbook, the path and sheet."""
    if not is_excel(path) or not Path(path).is_file():
        return str(path)
    try:
        return f"{path} (sheet {sheet_name(Path(path), sheet, str(path))})"
    except ExcelError:
        return str(path)


def file_headers(path: Path, source: str, sheet: str | None = None) -> list[str]:
    """The column headers of a CSV, Parquet or Excel input (reads no data row of a CSV or
    Parquet file). InputSchemaError for a missing or empty file."""
    if not path.is_file():
        raise InputSchemaError(source, "not_found", "file not found")
    if path.stat().st_size == 0:
        raise InputSchemaError(source, "no_data_rows", "empty file: no header and no data rows")
    whole = _whole_file_reader(path)
    if whole is not None:
        return [c for c in whole(path, sheet, source).columns if c != ROW_INDEX]
    if is_parquet(path):
        try:
            return list(pl.scan_parquet(path).collect_schema().names())
        except pl.exceptions.PolarsError as error:
            raise InputSchemaError(source, "unreadable", f"cannot be read as Parquet: {error}") from None
    return split_header(first_line(path), ",")


def _whole_file_reader(path: Path):
    """The reader of a format read whole (Excel, JSON), or None (CSV and Parquet are scanned)."""
    if is_excel(path):
        return _excel_table
    if not is_parquet(path) and is_json_table(path):
        return _json_table
    return None


def scan_text_table(
    path: Path, required: Sequence[str], optional: Sequence[str], source: str, sheet: str | None = None
) -> tuple[pl.LazyFrame, str]:
    """A lazy all-text frame of the contract columns present (extra columns are dropped) plus
    `source_row` (Int64, 1-based data row, header excluded), and the file's SHA-256. Excel
    workbooks (`.xlsx`, …) are read whole, from `sheet` (default: the first), and so is a
    JSON array of arrays with a header row (the Census API's format).

    Raises InputSchemaError for a missing or empty file, non-UTF-8 CSV bytes, a wrong
    delimiter, missing or repeated columns, or a file that cannot be read in its format."""
    if not path.is_file():
        raise InputSchemaError(source, "not_found", "file not found")
    if path.stat().st_size == 0:
        raise InputSchemaError(source, "no_data_rows", "empty file: no header and no data rows")
    whole = _whole_file_reader(path)
    if whole is not None:  # read whole, then checked like the lazy scans
        checksum = sha256_and_utf8(path, source, check_utf8=whole is _json_table)
        frame = whole(path, sheet, source)
        columns = [c for c in frame.columns if c != ROW_INDEX]
        check_columns(columns, required, source)
        present = [c for c in (*required, *optional) if c in columns]
        return (
            frame.lazy().select(pl.col(ROW_INDEX).cast(pl.Int64).alias(SOURCE_ROW), *(pl.col(c) for c in present)),
            checksum,
        )
    parquet = is_parquet(path)
    checksum = sha256_and_utf8(path, source, check_utf8=not parquet)
    try:
        if parquet:
            lazy = pl.scan_parquet(path, row_index_name=ROW_INDEX, row_index_offset=1)
            columns = [c for c in lazy.collect_schema().names() if c != ROW_INDEX]
            check_columns(columns, required, source)
        else:
            header = first_line(path)
            if not header.strip():
                raise InputSchemaError(
                    source, "no_data_rows", "empty file: no header and no data rows"
                )
            columns = split_header(header, ",")
            check_columns(columns, required, source, header)
            lazy = pl.scan_csv(
                path,
                infer_schema=False,
                row_index_name=ROW_INDEX,
                row_index_offset=1,
                encoding="utf8",
                raise_if_empty=False,
            )
    except pl.exceptions.PolarsError as error:
        kind = "Parquet" if parquet else "CSV"
        raise InputSchemaError(source, "unreadable", f"cannot be read as {kind}: {error}") from None
    present = [c for c in (*required, *optional) if c in columns]
    return (
        lazy.select(
            pl.col(ROW_INDEX).cast(pl.Int64).alias(SOURCE_ROW),
            *(pl.col(c).cast(pl.Utf8) for c in present),
        ),
        checksum,
    )


def _ragged_row(path: Path) -> str | None:
    """Where the first row with more fields than the header is (data row and line), for the
    error Polars raises without a position; None if no such row is found."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            for row_number, row in enumerate(reader, start=1):
                if len(row) > len(header):
                    return (
                        f"data row {row_number} (line {reader.line_num}) has {len(row)} fields, "
                        f"the header has {len(header)}: a row has more fields than the header "
                        "(quote values that contain a comma)"
                    )
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return None


def collect_frame(lazy: pl.LazyFrame, source: str, what: str) -> pl.DataFrame:
    try:
        return lazy.collect()
    except pl.exceptions.PolarsError as error:
        message = str(error).split("\n")[0]
        if "more fields than defined" in message:
            where = _ragged_row(Path(source))
            if where is not None:
                raise InputSchemaError(source, "unreadable", f"cannot be read as CSV: {where}") from None
            message = "a row has more fields than the header"
        raise InputSchemaError(source, "unreadable", f"cannot read {what}: {message}") from None
