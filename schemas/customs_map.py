"""Contract of a customs column map (`--customs-map NAME|PATH`, a TOML file).

A map tells the customs loader how a broker's export becomes the contract's all-text input
columns, before any contract rule runs:

    layout = "lines"               # or "line_tariff_rows" (ACE ES-003: one row per HTS number)
    date_format = "%m/%d/%Y"       # strftime/strptime directives; omitted: dates are YYYY-MM-DD
    sheet = "Report"               # Excel only: the sheet to read (default: the first)

    [columns]                      # contract column = source header
    entry_number = "Entry Summary Number"

    [numbers]                      # how the money and quantity columns are written
    thousands_separator = ","      # "", ",", ".", " " or "'"
    decimal_separator = "."        # "." or ","
    currency_symbols = ["$"]

    [values.transport_mode]        # source value = contract value, per contract column
    "10" = "vessel"

`parse_customs_map` checks the parsed TOML and returns a `CustomsMap`; every problem raises
`CustomsMapError` naming the map, the key and the value. Which headers the file has is checked
by the reader (`flows.inputs.customs_maps`), before any row is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from transforms.customs_columns import (
    OPTIONAL_COLUMNS,
    OPTIONAL_MONEY_COLUMNS,
    OPTIONAL_TEXT_COLUMNS,
    REQUIRED_COLUMNS,
)
from transforms.stg_customs_lines import TRANSPORT_MODES

LAYOUTS = ("lines", "line_tariff_rows")
THOUSANDS_SEPARATORS = ("", ",", ".", " ", "'")
DECIMAL_SEPARATORS = (".", ",")
TOP_LEVEL_KEYS = ("name", "description", "layout", "date_format", "sheet", "columns", "numbers", "values")
NUMBER_KEYS = ("thousands_separator", "decimal_separator", "currency_symbols")
# the contract columns written as dates and as numbers (the map's date and number formats apply)
DATE_COLUMNS = ("entry_date", "export_date")
NUMBER_COLUMNS = ("customs_value_usd", "quantity", *OPTIONAL_MONEY_COLUMNS)
# columns the line_tariff_rows fold produces itself (a map must not name them)
FOLDED_COLUMNS = ("declared_headings", "declared_heading_duties_usd")
# a date every directive of a valid format can write and read back unambiguously
_PROBE_DATE = dt.date(2025, 11, 28)


class CustomsMapError(ValueError):
    """A customs map that cannot be used: `map` (name or path), `key` (dotted TOML key),
    `value` (as written, None when the key is missing) and the problem."""

    def __init__(self, map_name: str, key: str, value: Any, problem: str):
        shown = "(missing)" if value is None else repr(value)
        super().__init__(f"customs map {map_name}: {key} = {shown}: {problem}")
        self.map_name, self.key, self.value, self.problem = map_name, key, value, problem


@dataclass(frozen=True)
class CustomsMap:
    """A checked customs map. `columns`: contract column → source header, in the map's
    order; `values`: contract column → {source value: contract value}."""

    name: str
    layout: str
    columns: Mapping[str, str]
    date_format: str | None = None
    sheet: str | None = None
    thousands_separator: str = ""
    decimal_separator: str = "."
    currency_symbols: tuple[str, ...] = ()
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def contract_columns() -> tuple[str, ...]:
    """Every contract input column a map may name (required, optional money, optional text)."""
    return (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, *OPTIONAL_TEXT_COLUMNS)


def required_columns(layout: str) -> tuple[str, ...]:
    """The contract columns a map of `layout` must map, and whose header the file must have:
    the contract's required columns, plus each row's duty amount for line_tariff_rows."""
    return (*REQUIRED_COLUMNS, "declared_duty_usd") if layout == "line_tariff_rows" else REQUIRED_COLUMNS


def _text(map_name: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CustomsMapError(map_name, key, value, "must be a non-empty text in quotes")
    return value


def check_date_format(map_name: str, key: str, value: Any) -> str:
    """A strftime format that writes a year, a month and a day and reads them back."""
    fmt = _text(map_name, key, value)
    if not any(d in fmt for d in ("%Y", "%y")) or not any(d in fmt for d in ("%m", "%b", "%B")) or "%d" not in fmt:
        raise CustomsMapError(
            map_name,
            key,
            value,
            "a date format needs a year (%Y or %y), a month (%m, %b or %B) and a day (%d), "
            'e.g. "%m/%d/%Y" for 10/31/2025',
        )
    try:
        written = _PROBE_DATE.strftime(fmt)
        read = dt.datetime.strptime(written, fmt).date()
    except ValueError as error:
        raise CustomsMapError(map_name, key, value, f"not a usable date format ({error})") from None
    if read != _PROBE_DATE:
        raise CustomsMapError(map_name, key, value, f"writes {written!r}, which does not read back as {_PROBE_DATE}")
    return fmt


def _columns(map_name: str, raw: Any, layout: str) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not raw:
        raise CustomsMapError(
            map_name, "columns", raw, 'a [columns] table is required: contract column = "source header"'
        )
    known = contract_columns()
    columns: dict[str, str] = {}
    for column, header in raw.items():
        key = f"columns.{column}"
        if column not in known:
            raise CustomsMapError(
                map_name,
                key,
                header,
                f"{column!r} is not a contract input column (known: {', '.join(known)})",
            )
        if layout == "line_tariff_rows" and column in FOLDED_COLUMNS:
            raise CustomsMapError(
                map_name,
                key,
                header,
                f'with layout = "line_tariff_rows", {column} is built from the chapter 98/99 rows; leave it out',
            )
        columns[column] = _text(map_name, key, header)
    repeated = sorted({h for h in columns.values() if list(columns.values()).count(h) > 1})
    if repeated:
        taken = [c for c, h in columns.items() if h == repeated[0]]
        raise CustomsMapError(map_name, f"columns.{taken[1]}", repeated[0], f"header already mapped to {taken[0]}")
    for column in required_columns(layout):
        if column not in columns:
            raise CustomsMapError(
                map_name,
                f"columns.{column}",
                None,
                "required contract column not mapped"
                + (" (with line_tariff_rows: the duty amount of each row)" if column == "declared_duty_usd" else ""),
            )
    return columns


def _numbers(map_name: str, raw: Any) -> tuple[str, str, tuple[str, ...]]:
    if raw is None:
        return "", ".", ()
    if not isinstance(raw, Mapping):
        raise CustomsMapError(map_name, "numbers", raw, "must be a table")
    for key in raw:
        if key not in NUMBER_KEYS:
            raise CustomsMapError(
                map_name, f"numbers.{key}", raw[key], f"unknown key (known: {', '.join(NUMBER_KEYS)})"
            )
    thousands = raw.get("thousands_separator", "")
    if thousands not in THOUSANDS_SEPARATORS:
        raise CustomsMapError(
            map_name,
            "numbers.thousands_separator",
            thousands,
            "must be one of " + ", ".join(repr(s) for s in THOUSANDS_SEPARATORS),
        )
    decimal = raw.get("decimal_separator", ".")
    if decimal not in DECIMAL_SEPARATORS:
        raise CustomsMapError(map_name, "numbers.decimal_separator", decimal, "must be '.' or ','")
    if decimal == thousands:
        raise CustomsMapError(map_name, "numbers.decimal_separator", decimal, "must differ from thousands_separator")
    symbols = raw.get("currency_symbols", [])
    if not isinstance(symbols, list) or not all(
        isinstance(s, str) and s and not any(c.isdigit() for c in s) for s in symbols
    ):
        raise CustomsMapError(
            map_name,
            "numbers.currency_symbols",
            symbols,
            'must be a list of non-empty texts without digits, e.g. ["$"]',
        )
    return thousands, decimal, tuple(symbols)


def _values(map_name: str, raw: Any, columns: Mapping[str, str]) -> dict[str, dict[str, str]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise CustomsMapError(
            map_name, "values", raw, "must hold one table per contract column, e.g. [values.transport_mode]"
        )
    values: dict[str, dict[str, str]] = {}
    for column, table in raw.items():
        if column not in columns:
            raise CustomsMapError(
                map_name, f"values.{column}", table, f"{column!r} is not a column mapped in [columns]"
            )
        if not isinstance(table, Mapping):
            raise CustomsMapError(
                map_name, f"values.{column}", table, 'must be a table: "source value" = "contract value"'
            )
        mapped: dict[str, str] = {}
        for source, target in table.items():
            key = f"values.{column}.{source}"
            target = _text(map_name, key, target)
            if column == "transport_mode" and target not in TRANSPORT_MODES:
                raise CustomsMapError(map_name, key, target, f"must be one of {', '.join(TRANSPORT_MODES)}")
            if column == "country_of_origin" and not (len(target) == 2 and target.isalpha() and target.isupper()):
                raise CustomsMapError(map_name, key, target, "must be an ISO 3166-1 alpha-2 code (JP)")
            mapped[str(source).strip()] = target
        values[column] = mapped
    return values


def parse_customs_map(data: Mapping[str, Any], map_name: str) -> CustomsMap:
    """The checked map of a parsed TOML document; CustomsMapError names the first problem."""
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise CustomsMapError(map_name, key, data[key], f"unknown key (known: {', '.join(TOP_LEVEL_KEYS)})")
    layout = data.get("layout", "lines")
    if layout not in LAYOUTS:
        raise CustomsMapError(map_name, "layout", layout, f"must be one of {', '.join(LAYOUTS)}")
    columns = _columns(map_name, data.get("columns"), layout)
    date_format = data.get("date_format")
    if date_format is not None:
        date_format = check_date_format(map_name, "date_format", date_format)
    sheet = data.get("sheet")
    if sheet is not None:
        sheet = _text(map_name, "sheet", sheet)
    thousands, decimal, symbols = _numbers(map_name, data.get("numbers"))
    return CustomsMap(
        name=map_name,
        layout=layout,
        columns=columns,
        date_format=date_format,
        sheet=sheet,
        thousands_separator=thousands,
        decimal_separator=decimal,
        currency_symbols=symbols,
        values=_values(map_name, data.get("values"), columns),
    )
