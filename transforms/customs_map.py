"""Apply a customs column map to an all-text broker export (pure Polars, no I/O).

`apply_customs_map` turns a frame with the export's own headers (every cell text, plus
`source_row`) into the contract's all-text input columns: headers renamed, dates rewritten
`YYYY-MM-DD` from the map's date format, numbers rewritten plain (`1,234.50 $` → `1234.50`),
source values replaced by contract values (mode-of-transport code `10` → `vessel`). A cell the
map's format does not fit is left as written, so the contract's own rule rejects it with the
value as found; a date that does not fit the map's date format is rejected here (check
`date_format`), since the contract's ISO rule would misname the problem.

`fold_line_tariff_rows` folds the `line_tariff_rows` layout (ACE ES-003: one row per HTS
number of an entry line) into contract lines: the row with a chapter 1–97 HTS number gives
the line (HTS, value, quantity, …), the chapter 98 and 99 rows give `declared_headings` and
`declared_heading_duties_usd` (`;`-separated, file order) and `declared_duty_usd` is the sum
of every row's duty. A line with no primary row, several, or rows that disagree on an
entry-level field is rejected, every one of its rows named.

Rejects have the loader's columns (`source`, `row_number`, `column`, `check`, `value`,
`message`) plus `_entry_date` (the row's parsed entry date, null when it does not parse), by
which the loader keeps the rejects of the month it loads.
"""

from __future__ import annotations

import re

import polars as pl

from schemas.customs_map import DATE_COLUMNS, NUMBER_COLUMNS, CustomsMap
from transforms.rejects import SOURCE_ROW
from transforms.stg_customs_lines import (
    DECIMAL_RE,
    LIST_SEPARATOR,
    date_of,
    dotted_heading,
    normalised_entry_number,
    text,
)

# fields every row of one ES-003 line repeats (entry level, and the line's origin)
LINE_LEVEL_FIELDS = ("entry_date", "importer_id", "port_code", "transport_mode", "country_of_origin")
# HTS chapters of the rows that are not the line's own classification
SECONDARY_CHAPTERS = ("98", "99")
ENTRY_DATE = "_entry_date"
_KEY = "__line_key"
_SUM = pl.Decimal(38, 10)


def _mapped_values(value: pl.Expr, table: dict[str, str]) -> pl.Expr:
    """Stripped text replaced through `table`; values not in it are kept as written."""
    return value.str.strip_chars().replace(table)


def _plain_number(value: pl.Expr, cmap: CustomsMap) -> pl.Expr:
    """A number written in the map's format (currency symbols, thousands and decimal
    separators, surrounding spaces) as plain text `-1234.50`; other text kept as written."""
    symbols = "".join(re.escape(s) + "|" for s in cmap.currency_symbols).rstrip("|")
    thousands = re.escape(cmap.thousands_separator)
    decimal = re.escape(cmap.decimal_separator)
    grouped = rf"[0-9]{{1,3}}({thousands}[0-9]{{3}})*" if thousands else "[0-9]+"
    number = rf"-?(({grouped}|[0-9]+)({decimal}[0-9]*)?|{decimal}[0-9]+)"
    sym = rf"(({symbols})\s*)?" if symbols else ""
    sym_after = rf"(\s*({symbols}))?" if symbols else ""
    pattern = rf"^\s*-?{sym}{number}{sym_after}\s*$"
    cleaned = value.str.strip_chars()
    for symbol in cmap.currency_symbols:
        cleaned = cleaned.str.replace_all(symbol, "", literal=True)
    cleaned = cleaned.str.strip_chars()
    if cmap.thousands_separator:
        cleaned = cleaned.str.replace_all(cmap.thousands_separator, "", literal=True)
    if cmap.decimal_separator != ".":
        cleaned = cleaned.str.replace_all(cmap.decimal_separator, ".", literal=True)
    # "-$5" and "$-5" both read -5 (the sign moved before the symbol was removed)
    cleaned = pl.when(cleaned.str.starts_with("--")).then(cleaned.str.slice(1)).otherwise(cleaned)
    return pl.when(value.str.contains(pattern)).then(cleaned).otherwise(value)


def _iso_date(value: pl.Expr, date_format: str) -> pl.Expr:
    """A date in the map's format as `YYYY-MM-DD` text (null when it does not fit)."""
    return value.str.strip_chars().str.to_date(date_format, strict=False).dt.strftime("%Y-%m-%d")


def apply_customs_map(raw: pl.DataFrame, cmap: CustomsMap, source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(contract-named all-text frame of the mapped columns plus `source_row`, rejects).

    `raw` has the export's headers, every cell text, and `source_row`. Rows whose date does
    not fit the map's date format are rejected here (the caller leaves them out, see
    `without_rows`; the fold needs them to reject the rest of their line). A mapped header
    `raw` lacks (an optional column) is left out."""
    exprs: list[pl.Expr] = []
    dates: list[str] = []
    for column, header in cmap.columns.items():
        if header not in raw.columns:
            continue
        value = pl.col(header).cast(pl.Utf8)
        if column in cmap.values:
            value = _mapped_values(value, dict(cmap.values[column]))
        if column in NUMBER_COLUMNS:
            value = _plain_number(value, cmap)
        if column in DATE_COLUMNS and cmap.date_format:
            dates.append(column)
            value = pl.when(text(header).is_null()).then(value).otherwise(_iso_date(value, cmap.date_format))
        exprs.append(value.alias(column))
    mapped = raw.select(pl.col(SOURCE_ROW), *exprs)
    if not dates:
        return mapped, empty_map_rejects()
    bad = pl.any_horizontal(
        [
            pl.col(cmap.columns[c]).str.strip_chars().str.len_chars().fill_null(0).gt(0)
            & pl.col(f"__iso_{c}").is_null()
            for c in dates
        ]
    )
    probed = raw.select(pl.col(SOURCE_ROW), *(pl.col(cmap.columns[c]) for c in dates)).hstack(
        mapped.select(pl.col(c).alias(f"__iso_{c}") for c in dates).get_columns()
    )
    failing = probed.filter(bad)
    if failing.height == 0:
        return mapped, empty_map_rejects()
    parts = [
        failing.filter(
            pl.col(cmap.columns[c]).str.strip_chars().str.len_chars().fill_null(0).gt(0)
            & pl.col(f"__iso_{c}").is_null()
        ).select(
            pl.lit(source).alias("source"),
            pl.col(SOURCE_ROW).cast(pl.Int64).alias("row_number"),
            pl.lit(c).alias("column"),
            pl.lit("date_format").alias("check"),
            pl.col(cmap.columns[c]).alias("value"),
            pl.lit(
                f"must be a real date written as the customs map {cmap.name} says, "
                f"date_format = {cmap.date_format!r} (source header {cmap.columns[c]!r})"
            ).alias("message"),
            pl.lit(None, dtype=pl.Date).alias(ENTRY_DATE),
        )
        for c in dates
    ]
    return mapped, pl.concat(parts).sort("row_number", "column")


def without_rows(frame: pl.DataFrame, rejects: pl.DataFrame) -> pl.DataFrame:
    """`frame` without the rows `rejects` names."""
    if rejects.height == 0:
        return frame
    return frame.filter(~pl.col(SOURCE_ROW).is_in(rejects["row_number"].implode()))


def empty_map_rejects() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "source": pl.Utf8,
            "row_number": pl.Int64,
            "column": pl.Utf8,
            "check": pl.Utf8,
            "value": pl.Utf8,
            "message": pl.Utf8,
            ENTRY_DATE: pl.Date,
        }
    )


def _line_key() -> pl.Expr:
    """(entry, line) of a row as one text; a row missing either is a line of its own (the
    contract's not_empty rule then rejects it)."""
    entry = normalised_entry_number(text("entry_number"))
    line = text("line_number").str.replace(r"^0+([0-9])", "$1")
    return (
        pl.when(entry.is_null() | line.is_null())
        .then(pl.lit("#") + pl.col(SOURCE_ROW).cast(pl.Utf8))
        .otherwise(entry + pl.lit("|") + line)
    )


def _duty_total(cell: pl.Expr) -> pl.Expr:
    """Sum of the rows' (stripped) duty texts as plain text; the first text that is not a
    plain decimal when there is one (the contract's decimal rule then rejects the line)."""
    plain = cell.str.contains(DECIMAL_RE)
    total = pl.when(plain).then(cell.cast(_SUM, strict=False)).sum()
    first_bad = cell.filter(cell.is_not_null() & ~plain).first()
    return pl.when(first_bad.is_not_null()).then(first_bad).when(cell.is_not_null().any()).then(total.cast(pl.Utf8))


def fold_line_tariff_rows(
    mapped: pl.DataFrame, source: str, broken_lines: pl.Series | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one contract line per (entry, line) of the `line_tariff_rows` frame, rejects).

    `mapped` is `apply_customs_map` output (contract column names, all text). The line keeps
    the primary row's `source_row`. `broken_lines`: `source_row`s already rejected (e.g. a
    date not in the map's format): they are left out, and the other rows of their lines are
    rejected too, since the line cannot be folded whole."""
    digits = text("hts_code").str.replace_all(".", "", literal=True)
    rows = mapped.with_columns(
        pl.col(SOURCE_ROW).cast(pl.Int64),
        _line_key().alias(_KEY),
        (~digits.str.slice(0, 2).is_in(SECONDARY_CHAPTERS)).fill_null(True).alias("__primary"),
    ).sort(SOURCE_ROW)
    every_row = rows.group_by(_KEY).agg(__rows=pl.col(SOURCE_ROW).sort())  # (named in messages)
    broken_keys = rows.select(_KEY).clear()
    if broken_lines is not None and broken_lines.len():
        broken = pl.col(SOURCE_ROW).is_in(broken_lines.implode())
        broken_keys = rows.filter(broken).select(_KEY).unique()
        rows = rows.filter(~broken)
    rejects = _unfoldable_lines(rows, every_row, broken_keys, source)
    bad_keys = rows.filter(pl.col(SOURCE_ROW).is_in(rejects["row_number"].implode())).select(_KEY).unique()
    return _folded_lines(rows.join(bad_keys, on=_KEY, how="anti")), rejects


def _unfoldable_lines(
    rows: pl.DataFrame, every_row: pl.DataFrame, broken_keys: pl.DataFrame, source: str
) -> pl.DataFrame:
    """The rejects of every row of the lines that cannot be folded: no or several primary
    rows, rows that disagree on a line-level field, a row rejected before (`broken_keys`)."""
    fields = [f for f in LINE_LEVEL_FIELDS if f in rows.columns]
    groups = (
        rows.group_by(_KEY)
        .agg(
            __primaries=pl.col("__primary").sum(),
            **{f"__n_{f}": text(f).drop_nulls().n_unique() for f in fields},
            **{f"__values_{f}": text(f).drop_nulls().unique(maintain_order=True) for f in fields},
        )
        .join(every_row, on=_KEY, how="left")
    )
    problems: list[pl.DataFrame] = []

    def reject(frame: pl.DataFrame, column: str, check: str, rule: str | pl.Expr) -> None:
        if frame.height == 0:
            return
        rows_text = pl.col("__rows").list.eval(pl.element().cast(pl.Utf8)).list.join(", ")
        named = frame.select(
            _KEY,
            pl.concat_str(
                pl.lit("the rows of "),
                _describe_key(pl.col(_KEY)),
                pl.lit(" (rows "),
                rows_text,
                pl.lit(") "),
                pl.lit(rule) if isinstance(rule, str) else rule,
            ).alias("message"),
        )
        problems.append(
            rows.join(named, on=_KEY, how="inner").select(
                pl.lit(source).alias("source"),
                pl.col(SOURCE_ROW).alias("row_number"),
                pl.lit(column).alias("column"),
                pl.lit(check).alias("check"),
                (pl.col(column) if column in rows.columns else pl.lit(None, pl.Utf8)).alias("value"),
                "message",
                date_of(text("entry_date")).alias(ENTRY_DATE),
            )
        )

    reject(
        groups.filter(pl.col("__primaries") == 0),
        "hts_code",
        "line_no_primary_row",
        "have no chapter 1-97 HTS number: the line's own classification row is missing",
    )
    reject(
        groups.filter(pl.col("__primaries") > 1),
        "hts_code",
        "line_several_primary_rows",
        "have more than one chapter 1-97 HTS number: one line, one classification",
    )
    for f in fields:
        found = pl.col(f"__values_{f}").list.join(" / ")
        reject(
            groups.filter(pl.col(f"__n_{f}") > 1),
            f,
            "line_rows_disagree",
            pl.concat_str(
                pl.lit(f"disagree on {f} ("), found, pl.lit(f"): every row of a line must repeat the same {f}")
            ),
        )
    reject(
        groups.join(broken_keys, on=_KEY, how="semi"),
        "entry_number,line_number",
        "line_has_rejected_row",
        "belong to a line with a row rejected for its date: the line cannot be folded whole",
    )
    return pl.concat(problems).sort("row_number", "column", "check") if problems else empty_map_rejects()


def _folded_lines(good: pl.DataFrame) -> pl.DataFrame:
    """The rows of the lines that fold, one contract line each: the primary row with the
    secondary rows' headings and duties (`declared_headings`, `declared_heading_duties_usd`)
    and the line's declared duty summed."""
    # one entry per heading (a heading on two rows: its duties summed), in file order; the
    # heading written dotted (9903.94.05) whatever the export's punctuation
    secondary = (
        good.filter(~pl.col("__primary"))
        .with_columns(__heading=dotted_heading(text("hts_code")))
        .group_by(_KEY, "__heading", maintain_order=True)
        .agg(
            __row=pl.col(SOURCE_ROW).min(),
            __duty=pl.when(pl.len() == 1)
            .then(text("declared_duty_usd").first())
            .otherwise(_duty_total(text("declared_duty_usd")))
            .fill_null("0"),
        )
        .sort("__row")
    )
    folded = secondary.group_by(_KEY, maintain_order=True).agg(
        declared_headings=pl.col("__heading").str.join(LIST_SEPARATOR),
        declared_heading_duties_usd=pl.col("__duty").str.join(LIST_SEPARATOR),
    )
    totals = good.group_by(_KEY).agg(__declared=_duty_total(text("declared_duty_usd")))
    return (
        good.filter(pl.col("__primary"))
        .join(folded, on=_KEY, how="left")
        .join(totals, on=_KEY, how="left")
        .with_columns(pl.col("__declared").alias("declared_duty_usd"))
        .drop(_KEY, "__primary", "__declared")
        .sort(SOURCE_ROW)
    )


def _describe_key(key: pl.Expr) -> pl.Expr:
    """`entry ABC12345678 line 3` from a line key (`#<row>` keys: `row <row>`)."""
    parts = key.str.split("|")
    return (
        pl.when(key.str.starts_with("#"))
        .then(pl.lit("row ") + key.str.slice(1))
        .otherwise(pl.concat_str(pl.lit("entry "), parts.list.get(0), pl.lit(" line "), parts.list.get(1)))
    )
