"""stg_customs_lines: parse, check and normalise the all-text customs entry lines.

Pure Polars. `parse_customs_lines` adds typed helper columns (prefixed `_`) next to the raw
text, `customs_line_checks` is the table of row rules evaluated over that frame (failures
become `rejects` rows), and `stage_customs_lines` turns the rows that passed into the staged
table (columns and dtypes in docs/architecture.md). Nothing is silently reinterpreted: an
Excel-style date or a thousands separator is a reject, not a guess.

Normalisation (the stg_ layer's job): surrounding whitespace stripped everywhere; entry
numbers upper case without dashes; HTS codes without dots; country and unit codes upper
case; transport modes lower case.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from decimal import Decimal

import polars as pl
import pycountry

from transforms.customs_columns import OPTIONAL_COLUMNS, OPTIONAL_MONEY_COLUMNS, OPTIONAL_TEXT_COLUMNS, REQUIRED_COLUMNS
from transforms.frames import per_distinct_values
from transforms.order import rows_in_order, sorted_by
from transforms.rejects import SOURCE_ROW, RowCheck, one_of
from transforms.vocabulary import MONEY

QUANTITY = pl.Decimal(38, 10)
MONEY_DECIMALS = 2
QUANTITY_DECIMALS = 10

# Value bounds, so that no aggregate of the warehouse can overflow DECIMAL(18,2) (largest value
# 9,999,999,999,999,999.99, about 10^16). Per input row: a money amount (customs value,
# declared duty, steel and aluminium content; a vehicle's MSRP and value) at most 10^12 USD and
# a quantity at most 10^12 units, far above any real entry line (all US imports are about
# 3.3 x 10^12 USD a year). Per month (checked by the loaders on the staged rows): the month's
# customs value and its quantity each at most MAX_MONTH_TOTAL = 10^14. Derived: every
# chapter 99 rate is a fraction <= 1 (schemas/schedule.py) in at most 4 stacking layers, and
# the shipped MFN rates are at most 38% ad valorem and 29.1 cents per unit, so a month's total
# duty is at most 4.38 x 10^14 + 0.291 x 10^14 and its fees (HMF 0.125% of value, MPF capped
# per entry) far less: every sum over a month's lines (HS-month, importer-month, model-month,
# scenario marts) stays below 10^15, a tenth of what DECIMAL(18,2) holds.
MAX_LINE_USD = Decimal("1000000000000.00")
MAX_LINE_QUANTITY = Decimal("1000000000000")
MAX_MONTH_TOTAL = Decimal("100000000000000")

TRANSPORT_MODES: tuple[str, ...] = ("vessel", "air", "truck", "rail", "mail", "other")
# USITC tariff database `mfn_rate_type_code`: 0 free and 7 ad valorem carry no unit; 2 and 5
# are specific on the second quantity unit; every other code is specific on the first.
UNITLESS_RATE_TYPES: tuple[str, ...] = ("0", "7")
SECOND_QUANTITY_RATE_TYPES: tuple[str, ...] = ("2", "5")

# The staged table's columns: the contract's (transforms/customs_columns.py), with `month` after
# the entry date, then the source row.
_AFTER_DATE = REQUIRED_COLUMNS.index("entry_date") + 1
STG_COLUMNS: tuple[str, ...] = (
    *REQUIRED_COLUMNS[:_AFTER_DATE], "month", *REQUIRED_COLUMNS[_AFTER_DATE:],
    *OPTIONAL_COLUMNS, *OPTIONAL_TEXT_COLUMNS, SOURCE_ROW,
)

ENTRY_NUMBER_RE = r"^[A-Z0-9]{3}-?[0-9]{7}-?[0-9]$"
HTS_CODE_RE = r"^[0-9]{4}\.?[0-9]{2}\.?[0-9]{2}\.?[0-9]{2}$"
ISO_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
EXCEL_DATE_RE = r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}$"
INTEGER_RE = r"^[+-]?[0-9]+$"
DECIMAL_RE = r"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
THOUSANDS_RE = r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$"
PORT_CODE_RE = r"^[0-9]{4}$"

_MONEY_COLUMNS = ("customs_value_usd",)
_OPTIONAL_MONEY_COLUMNS = OPTIONAL_MONEY_COLUMNS
# one chapter 99 heading as declared on the 7501 (`declared_headings` holds them `;`-separated)
DECLARED_HEADING_RE = r"^99[0-9]{2}\.[0-9]{2}\.[0-9]{2}$"
HEADING_SEPARATOR = ";"
LIST_SEPARATOR = HEADING_SEPARATOR  # every `;`-separated input column (declared_heading_duties_usd)


def declared_headings_of(value: pl.Expr) -> pl.Expr:
    """Stripped `declared_headings` text as a list of its headings, each stripped, empty
    pieces (a trailing `;`) dropped, repeats dropped, in the order written."""
    pieces = value.str.split(HEADING_SEPARATOR).list.eval(pl.element().str.strip_chars())
    return pieces.list.eval(pl.element().filter(pl.element() != "")).list.unique(maintain_order=True)


ORIGIN_RULE = "must be an ISO 3166-1 alpha-2 country code (JP)"


@functools.cache
def iso_country_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes of current countries (pycountry)."""
    return tuple(sorted(country.alpha_2 for country in pycountry.countries))


def text(column: str) -> pl.Expr:
    """The raw cell stripped of surrounding whitespace; empty becomes null."""
    stripped = pl.col(column).str.strip_chars()
    return pl.when(stripped.str.len_chars() > 0).then(stripped)


TEXT_PREFIX = "__text_"


def clean(column: str) -> pl.Expr:
    """`text(column)` as computed once by `with_text_columns` (parse functions and row checks
    read this, not the raw cell, so a column is stripped once however many rules look at it)."""
    return pl.col(TEXT_PREFIX + column)


def with_text_columns(raw: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """`raw` plus `__text_<column>` = `text(column)` for every column in `columns`.

    One scan per column finds whether any cell has surrounding whitespace or is empty; a
    column with neither (clean data, the usual case) is shared as it is, not copied, and only
    the columns that need it are stripped."""
    probes = raw.select(
        # (a cell with surrounding whitespace is one that stripping changes: cheaper than the
        # regex `^\s|\s$`, the same cells)
        *((pl.col(c).str.strip_chars() != pl.col(c)).any().alias(f"ws_{i}") for i, c in enumerate(columns)),
        *((pl.col(c) == "").any().alias(f"empty_{i}") for i, c in enumerate(columns)),
    ).row(0, named=True)

    def cleaned(i: int, column: str) -> pl.Expr:
        if probes[f"ws_{i}"]:
            return text(column)
        if probes[f"empty_{i}"]:
            return pl.when(pl.col(column) != "").then(pl.col(column))
        return pl.col(column)

    return raw.with_columns(cleaned(i, c).alias(TEXT_PREFIX + c) for i, c in enumerate(columns))


def entry_number_key(column: str = "entry_number") -> pl.Expr:
    """Normalised entry number: upper case, no dashes (null when empty)."""
    return normalised_entry_number(text(column))


def normalised_entry_number(value: pl.Expr) -> pl.Expr:
    """An entry number's stripped text (`text` or `clean`) upper case, without dashes."""
    return value.str.to_uppercase().str.replace_all("-", "", literal=True)


def iso_date(column: str) -> pl.Expr:
    """The cell as a Date when it is exactly `YYYY-MM-DD` and a real calendar day, else null."""
    return date_of(text(column))


def date_of(value: pl.Expr) -> pl.Expr:
    """Stripped text as a Date when it is exactly `YYYY-MM-DD` and a real calendar day."""
    return pl.when(value.str.contains(ISO_DATE_RE)).then(value.str.to_date("%Y-%m-%d", strict=False))


def integer_of(value: pl.Expr) -> pl.Expr:
    """Stripped text as an integer when it is a plain (signed) whole number, else null."""
    return pl.when(value.str.contains(INTEGER_RE)).then(value.str.to_integer(strict=False))


def decimal_of(value: pl.Expr, dtype: pl.Decimal) -> pl.Expr:
    """Stripped text as `dtype` when it is a plain decimal number that fits, else null."""
    return pl.when(value.str.contains(DECIMAL_RE)).then(value.cast(dtype, strict=False))


def _more_decimals_than(value: pl.Expr, decimals: int) -> pl.Expr:
    """More than `decimals` significant digits after the point (trailing zeros do not count):
    a non-zero digit at place `decimals + 1` or later. For text that parsed as a decimal
    (DECIMAL_RE): the digits after the point, less trailing zeros, counted without a regular
    expression (the regex `\\.[0-9]{2}[0-9]*[1-9]` gives the same and costs 1.4x more)."""
    point = value.str.find(".", literal=True).cast(pl.Int64)
    significant = value.str.strip_chars_end("0").str.len_bytes().cast(pl.Int64)
    return (significant - point - 1 > decimals).fill_null(False)


ENTRY_KEY = "_entry_number"  # the normalised entry number (`entry_number_key`)
# All-text rows parsed, checked and staged at a time (whole entries): a part's parsed helper
# columns and check flags are let go before the next part is parsed.
STAGING_PART_ROWS = 1 << 18


def in_line_order_parts(raw: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """The all-text rows in the order the staged lines keep (`transforms.vocabulary.LINE_GRAIN`):
    by normalised entry number, then line number, then source row, rows whose entry or line
    number does not parse (rejected later) first; in parts of about STAGING_PART_ROWS rows
    that never split an entry, since every rule that compares lines (the grain, one date and
    one importer per entry) compares the lines of one entry. Each part carries its rows'
    normalised entry numbers (ENTRY_KEY), worked out here once.

    The generator holds the only reference to `raw` (the caller lets it go) and lets it go as
    the parts are used: slices of `raw` when it is in that order already (a file read in row
    groups, not copied into one piece, is freed a row group at a time as the parts pass it);
    else the parts are gathered a column at a time, each column of `raw` dropped once its
    pieces are gathered, and each part freed once used. A large month's text is then never
    held whole beside its staged rows.

    Parsing the rows in line order is what lets fct_duty_lines and the marts that keep its
    order share the staged columns instead of each sorting a copy."""
    # (a line number that is not a plain integer is rejected, wherever it sorts: no regex)
    keys = raw.select(
        entry=entry_number_key(), line=text("line_number").str.to_integer(strict=False), row=pl.col(SOURCE_ROW)
    )
    order = None
    if not keys.select(rows_in_order(["entry", "line", "row"], strict=True)).item():
        order = _line_order(keys)
    entries = keys.get_column("entry")
    del keys
    if order is not None:
        entries = entries.gather(order)
    bounds = _part_bounds(entries, STAGING_PART_ROWS)
    if order is None:
        rest = raw
        del raw
        for start, end in bounds:
            part, rest = rest.slice(0, end - start), rest.slice(end - start)
            # (with each part, its rows' normalised entry numbers: `parse_customs_lines` reuses them)
            yield part.with_columns(entries.slice(start, end - start).alias(ENTRY_KEY))
            del part
        return
    pieces: list[list[pl.DataFrame] | None] = [[] for _ in bounds]
    names = raw.columns
    for at in range(0, len(names), _GATHERED_TOGETHER):
        # (a few columns at a time, gathered in parallel; in one piece first: a gather from a
        # column in many chunks is far slower)
        taken = names[at:at + _GATHERED_TOGETHER]
        group, raw = raw.select(taken).rechunk(), raw.drop(taken)
        for piece, (start, end) in zip(pieces, bounds, strict=True):
            piece.append(group.select(pl.all().gather(order.slice(start, end - start))))
        del group
    del raw
    for index, (start, end) in enumerate(bounds):
        part, pieces[index] = pl.concat(pieces[index], how="horizontal"), None
        yield part.with_columns(entries.slice(start, end - start).alias(ENTRY_KEY))
        del part


# Columns of the text gathered into the parts together (in parallel): each group is held
# twice while it is gathered, the rest of the text once.
_GATHERED_TOGETHER = 4


def _line_order(keys: pl.DataFrame) -> pl.Series:
    """The row order that sorts `keys` (entry, line; in source row order) by entry then line,
    stably. When every entry's lines are together and by line number (the usual export, its
    entries merely not in entry number order), the runs of one entry are sorted, not the
    lines; otherwise the lines are."""
    entry, line = keys.get_column("entry"), keys.get_column("line")
    starts = _run_starts(entry)
    heads = entry.filter(starts)
    by_line = (starts | (line > line.shift(1))).fill_null(False).all()
    if not (by_line and heads.n_unique() == heads.len()):
        return keys.select(pl.arg_sort_by("entry", "line", nulls_last=False, maintain_order=True)).to_series()
    run_starts = starts.arg_true()
    run_ends = pl.concat([run_starts.slice(1), pl.Series([keys.height], dtype=run_starts.dtype)])
    runs = heads.arg_sort(nulls_last=False)
    return pl.select(
        pl.int_ranges(pl.lit(run_starts.gather(runs)), pl.lit(run_ends.gather(runs)), dtype=pl.get_index_type())
    ).to_series().explode()


def _run_starts(values: pl.Series) -> pl.Series:
    """Per row: the first row, or a value other than the row before's (nulls equal)."""
    return (pl.int_range(values.len(), eager=True) == 0) | values.ne_missing(values.shift(1))


def _part_bounds(entries: pl.Series, rows: int) -> list[tuple[int, int]]:
    """(start, end) of consecutive parts of about `rows` rows of `entries` (sorted, equal
    values together), each ending where an entry does: a part ends at the first entry start
    at or after `rows` rows from its start. One (0, 0) part for no rows."""
    height = entries.len()
    starts = _run_starts(entries).arg_true()
    bounds, start = [], 0
    while start < height or not bounds:
        target = start + rows
        if target >= height:
            end = height
        else:
            at = starts.search_sorted(target, side="left")
            end = starts[at] if at < starts.len() else height
        bounds.append((start, end))
        start = end
    return bounds


def parse_customs_lines(raw: pl.DataFrame, mfn: pl.DataFrame) -> pl.DataFrame:
    """The raw all-text lines plus typed, normalised helper columns `_<column>` (null where the
    text does not parse) and the MFN facts of each line's HTS8 (`_in_schedule`,
    `_rate_unit`: the unit a specific MFN rate is on, null for free/ad valorem rates).

    Entry-level facts for the entry rules (`_entry_facts`): `_line_repeated` (another line
    has the same entry and line number), `_entry_first_date`, `_entry_last_date` (the entry's
    earliest and latest parsed dates) and `_entry_importers` (distinct importer ids), the
    last three set only on the lines of entries with more than one date or importer (null
    elsewhere).

    Missing optional columns are added as empty text. Row order is kept. Rows from
    `in_line_order_parts` carry their normalised entry number already (ENTRY_KEY): it is
    reused, not worked out again."""
    missing = [c for c in (*OPTIONAL_COLUMNS, *OPTIONAL_TEXT_COLUMNS) if c not in raw.columns]
    raw = raw.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c) for c in missing)
    raw = with_text_columns(raw, (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, *OPTIONAL_TEXT_COLUMNS))
    parsed = raw.with_columns(
        _entry_number=pl.col(ENTRY_KEY) if ENTRY_KEY in raw.columns else normalised_entry_number(clean("entry_number")),
        _line_number=integer_of(clean("line_number")),
        _entry_date=date_of(clean("entry_date")),
        _hts_code=pl.when(clean("hts_code").str.contains(HTS_CODE_RE)).then(
            clean("hts_code").str.replace_all(".", "", literal=True)
        ),
        _country_of_origin=clean("country_of_origin").str.to_uppercase(),
        _customs_value_usd=decimal_of(clean("customs_value_usd"), MONEY),
        _quantity=decimal_of(clean("quantity"), QUANTITY),
        _quantity_unit=clean("quantity_unit").str.to_uppercase(),
        _transport_mode=clean("transport_mode").str.to_lowercase(),
        _port_code=clean("port_code"),
        _importer_id=clean("importer_id"),
        **{f"_{c}": decimal_of(clean(c), MONEY) for c in _OPTIONAL_MONEY_COLUMNS},
        _export_date=date_of(clean("export_date")),
        _declared_heading_list=declared_headings_of(clean("declared_headings")),
    ).with_columns(
        # (per distinct text: a month's lines declare few distinct lists)
        *per_distinct_values(
            raw,
            TEXT_PREFIX + "declared_headings",
            {"_declared_headings": _joined_headings, "_bad_declared_headings": _bad_headings},
        ),
        _hts8=pl.col("_hts_code").str.slice(0, 8),
        _declared_heading_duties_usd=_list_items(clean("declared_heading_duties_usd")),
    )

    rate_type = pl.col("mfn_rate_type_code").str.strip_chars()
    rates = mfn.select(
        pl.col("hts8").alias("_hts8"),
        pl.lit(True).alias("_in_schedule"),
        pl.when(rate_type.is_null() | rate_type.is_in(UNITLESS_RATE_TYPES))
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(rate_type.is_in(SECOND_QUANTITY_RATE_TYPES))
        .then(pl.col("quantity_2_code"))
        .otherwise(pl.col("quantity_1_code"))
        .str.strip_chars()
        .str.to_uppercase()
        .alias("_rate_unit"),
    ).unique("_hts8", keep="first")
    # joined on the key column alone and placed beside the lines: a join of the whole frame
    # would copy every column of every line
    looked_up = (
        parsed.select("_hts8")
        .join(rates, on="_hts8", how="left", maintain_order="left")
        .drop("_hts8")
        .with_columns(pl.col("_in_schedule").fill_null(False))
    )
    return parsed.hstack([*looked_up.get_columns(), *_entry_facts(parsed).get_columns()])


def _joined_headings(value: pl.Expr) -> pl.Expr:
    """The declared headings of stripped `declared_headings` text, `;`-joined (null: none)."""
    return declared_headings_of(value).list.join(HEADING_SEPARATOR).replace("", None)


def _bad_headings(value: pl.Expr) -> pl.Expr:
    """The declared headings of stripped `declared_headings` text that are not chapter 99
    headings (DECLARED_HEADING_RE), `;`-joined (null: none)."""
    return (
        declared_headings_of(value)
        .list.eval(pl.element().filter(~pl.element().str.contains(DECLARED_HEADING_RE)))
        .list.join(HEADING_SEPARATOR)
        .replace("", None)
    )


def _entry_facts(parsed: pl.DataFrame) -> pl.DataFrame:
    """Per line: `_line_repeated` (another line has its entry and line number) and, on the
    lines of entries with more than one date or importer only, `_entry_first_date`,
    `_entry_last_date` and `_entry_importers`.

    Lines in line order (the loader's, `in_line_order_parts`) have an entry's lines together
    and a repeated line beside its twin: the facts come from comparing neighbours and from one
    group-by over runs of equal entry numbers. Otherwise from a window and a group-by over the
    entry numbers, joined back."""
    entry, line, entry_date = pl.col("_entry_number"), pl.col("_line_number"), pl.col("_entry_date")
    facts = {
        "_entry_first_date": entry_date.min(),
        "_entry_last_date": entry_date.max(),
        "_entry_importers": pl.col("_importer_id").drop_nulls().n_unique().cast(pl.Int64),
    }
    mixed = entry.is_not_null() & (
        (pl.col("_entry_first_date") != pl.col("_entry_last_date")) | (pl.col("_entry_importers") > 1)
    )
    if parsed.select(rows_in_order(["_entry_number", "_line_number"], strict=False)).item():
        same = (entry == entry.shift(1)) & (line == line.shift(1))
        runs = parsed.select(entry.rle_id().alias("_run"), entry, line, entry_date, "_importer_id")
        per_run = runs.group_by("_run", maintain_order=True).agg(**facts).sort("_run")
        return (
            runs.select(
                entry,
                _line_repeated=(same | same.shift(-1)).fill_null(False),
                **{name: pl.lit(per_run.get_column(name)).gather(pl.col("_run")) for name in facts},
            )
            .with_columns(pl.when(mixed).then(pl.col(name)).alias(name) for name in facts)
            .drop("_entry_number")
        )
    mixed_entries = parsed.group_by("_entry_number").agg(**facts).filter(mixed)
    return parsed.select("_entry_number", _line_repeated=pl.len().over(entry, line) > 1).join(
        mixed_entries, on="_entry_number", how="left", maintain_order="left"
    ).drop("_entry_number")


def _list_items(value: pl.Expr) -> pl.Expr:
    """A ';'-separated cell as a list of stripped, non-empty items (null for an empty cell)."""
    return value.str.split(LIST_SEPARATOR).list.eval(
        pl.element().str.strip_chars().filter(pl.element().str.len_chars() > 0)
    )


def dotted_heading(value: pl.Expr) -> pl.Expr:
    """An 8- or 10-digit HTS number (dots allowed) written 9903.94.05 / 8703.23.01.90."""
    digits = value.str.replace_all(".", "", literal=True)
    dotted = pl.concat_str(
        digits.str.slice(0, 4), pl.lit("."), digits.str.slice(4, 2), pl.lit("."), digits.str.slice(6, 2)
    )
    return pl.when(digits.str.len_chars() > 8).then(dotted + pl.lit(".") + digits.str.slice(8, 2)).otherwise(dotted)


def declared_heading_checks() -> list[RowCheck]:
    """Rules of the optional declared_heading_duties_usd beside declared_headings."""
    # (the headings' own format is `line_fact_checks`' heading_format rule)
    headings, duties = pl.col("_declared_heading_list"), pl.col("_declared_heading_duties_usd")
    return [
        RowCheck(
            "declared_heading_duties_usd",
            "declared_heading_duties_match_headings",
            duties.is_not_null() & (duties.list.len() != headings.list.len().fill_null(0)),
            "one ';'-separated duty per declared heading, in the same order",
        ),
        RowCheck(
            "declared_heading_duties_usd",
            "declared_heading_duties_decimal",
            duties.list.eval(
                ~pl.element().str.contains(DECIMAL_RE) | _more_decimals_than(pl.element(), MONEY_DECIMALS)
            ).list.any(),
            "each duty a plain decimal number with at most 2 decimal places",
        ),
    ]


def _not_empty(column: str) -> RowCheck:
    return RowCheck(column, "not_empty", clean(column).is_null(), "a value is required")


def decimal_checks(column: str, decimals: int, dtype: pl.Decimal, maximum: Decimal) -> list[RowCheck]:
    """The rules of a non-negative decimal column: plain notation, >= 0, at most `decimals`
    places, at most `maximum` (the value bounds above)."""
    value = clean(column)
    parsed = pl.col(f"_{column}")
    integer_digits = dtype.precision - dtype.scale
    # only text that did not parse can have a thousands separator (DECIMAL_RE has no comma)
    thousands = parsed.is_null() & value.str.contains(THOUSANDS_RE)
    return [
        RowCheck(
            column,
            "thousands_separator",
            thousands,
            "write numbers without thousands separators, '.' for decimals (30000.00)",
        ),
        RowCheck(
            column,
            "decimal",
            value.is_not_null() & parsed.is_null() & ~thousands,
            "must be a plain decimal number (digits and an optional '.', no exponent) with at most "
            f"{integer_digits} digits before the point",
        ),
        RowCheck(column, "ge_0", parsed < 0, "must be 0 or more"),
        RowCheck(
            column,
            "le_max",
            parsed > pl.lit(maximum, dtype),
            f"must be at most {maximum:,} (10^{maximum.adjusted()}) per row: no real entry line is "
            "larger, and larger values would overflow the month's totals",
        ),
        RowCheck(
            column,
            f"max_{decimals}_decimals",
            parsed.is_not_null() & _more_decimals_than(value, decimals),
            f"at most {decimals} decimal places",
        ),
    ]


# ENTRY_NUMBER_RE in either case: an entry number is upper-cased when normalised (ASCII letters
# only: a letter that upper-cases to ASCII ones, such as ß, is not one); 2.4x cheaper than
# upper-casing every cell first
_ENTRY_NUMBER_ANY_CASE_RE = r"^[A-Za-z0-9]{3}-?[0-9]{7}-?[0-9]$"


def entry_line_key_checks(line: pl.Expr) -> list[RowCheck]:
    """The rules of an (entry_number, line_number) key, shared by every input that carries
    one (after `with_text_columns`); `line` is the parsed line number."""
    return [
        RowCheck(
            "entry_number",
            "entry_number_format",
            ~clean("entry_number").str.contains(_ENTRY_NUMBER_ANY_CASE_RE),
            "3-character filer code + 7 digits + 1 check digit, dashes allowed (ABC-1234567-8)",
        ),
        RowCheck(
            "line_number",
            "integer",
            clean("line_number").is_not_null() & line.is_null(),
            "must be a whole number",
        ),
        RowCheck("line_number", "ge_1", line < 1, "must be 1 or more"),
    ]


def customs_line_checks() -> list[RowCheck]:
    """The row rules of the customs lines contract, over `parse_customs_lines` output."""
    checks: list[RowCheck] = [_not_empty(c) for c in REQUIRED_COLUMNS]
    entry, line = pl.col("_entry_number"), pl.col("_line_number")
    entry_date = pl.col("_entry_date")
    checks += entry_line_key_checks(line)
    checks += [
        RowCheck(
            "entry_number,line_number",
            "grain_unique",
            entry.is_not_null() & line.is_not_null() & pl.col("_line_repeated"),
            "(entry_number, line_number) must be unique; every copy is rejected",
            value=pl.concat_str(pl.col("entry_number"), pl.col("line_number"), separator=","),
        ),
        RowCheck(
            "entry_date",
            "date_excel_style",
            clean("entry_date").str.contains(EXCEL_DATE_RE),
            "write dates as ISO YYYY-MM-DD, not month/day/year",
        ),
        RowCheck(
            "entry_date",
            "date_iso",
            # (an unparsed date only: EXCEL_DATE_RE never matches a parsed ISO date)
            entry_date.is_null()
            & clean("entry_date").is_not_null()
            & ~clean("entry_date").str.contains(EXCEL_DATE_RE),
            "must be a real calendar date written YYYY-MM-DD",
        ),
        RowCheck(
            "entry_date",
            "entry_single_date",
            pl.col("_entry_first_date") != pl.col("_entry_last_date"),
            "all lines of one entry must share one entry_date; every line of the entry is rejected",
            detail=pl.concat_str(
                pl.lit("entry "),
                entry,
                pl.lit(" has dates "),
                pl.col("_entry_first_date").cast(pl.Utf8),
                pl.lit(" to "),
                pl.col("_entry_last_date").cast(pl.Utf8),
            ),
        ),
        RowCheck(
            "hts_code",
            "hts_10_digits",
            clean("hts_code").is_not_null() & pl.col("_hts_code").is_null(),
            "must be 10 digits, dots allowed (8703.23.01.90)",
        ),
        RowCheck(
            "hts_code",
            "hts8_in_schedule",
            pl.col("_hts_code").is_not_null() & ~pl.col("_in_schedule"),
            "its 8-digit subheading must be in the schedule's MFN table",
        ),
        RowCheck(
            "country_of_origin",
            "iso3166_alpha2",
            ~pl.col("_country_of_origin").is_in(iso_country_codes()),
            ORIGIN_RULE,
        ),
    ]
    for column in _MONEY_COLUMNS + _OPTIONAL_MONEY_COLUMNS:
        checks += decimal_checks(column, MONEY_DECIMALS, MONEY, MAX_LINE_USD)
    checks += line_fact_checks()
    checks += decimal_checks("quantity", QUANTITY_DECIMALS, QUANTITY, MAX_LINE_QUANTITY)
    checks += declared_heading_checks()
    checks += [
        RowCheck(
            "quantity_unit",
            "quantity_unit_matches_rate",
            pl.col("_quantity_unit").is_not_null()
            & pl.col("_rate_unit").is_not_null()
            & (pl.col("_quantity_unit") != pl.col("_rate_unit")),
            "the MFN rate is specific, so the quantity must be in the unit the rate is on",
            detail=pl.concat_str(pl.lit("expected "), pl.col("_rate_unit")),
        ),
        one_of("transport_mode", "transport_mode_allowed", pl.col("_transport_mode"), TRANSPORT_MODES),
        RowCheck(
            "port_code",
            "port_code_4_digits",
            ~pl.col("_port_code").str.contains(PORT_CODE_RE),
            "must be a 4-digit US port code",
        ),
        RowCheck(
            "importer_id",
            "entry_single_importer",
            # several distinct importers (nulls are the not_empty check's)
            pl.col("_entry_importers") > 1,
            "all lines of one entry must share one importer_id; "
            "every line of the entry is rejected",
            detail=pl.concat_str(pl.lit("entry "), entry, pl.lit(" has several importers")),
        ),
    ]
    return checks


def line_fact_checks() -> list[RowCheck]:
    """The rules of the optional line facts the duty rules read: the date of exportation,
    the declared chapter 99 headings and the declared metal content."""
    export, entry = pl.col("_export_date"), pl.col("_entry_date")
    value = pl.col("_customs_value_usd")
    steel, aluminum = pl.col("_steel_content_value_usd"), pl.col("_aluminum_content_value_usd")
    return [
        RowCheck(
            "export_date",
            "date_excel_style",
            clean("export_date").str.contains(EXCEL_DATE_RE),
            "write dates as ISO YYYY-MM-DD, not month/day/year",
        ),
        RowCheck(
            "export_date",
            "date_iso",
            export.is_null() & clean("export_date").is_not_null() & ~clean("export_date").str.contains(EXCEL_DATE_RE),
            "must be a real calendar date written YYYY-MM-DD",
        ),
        RowCheck(
            "export_date",
            "export_not_after_entry",
            export > entry,
            "the date of exportation cannot be after the entry_date",
            detail=pl.concat_str(pl.lit("entry_date "), entry.cast(pl.Utf8)),
        ),
        RowCheck(
            "declared_headings",
            "heading_format",
            pl.col("_bad_declared_headings").is_not_null(),
            "chapter 99 headings written 9903.94.05, separated by ';' (9903.94.05;9903.01.25)",
            detail=pl.concat_str(pl.lit("not a heading: "), pl.col("_bad_declared_headings")),
        ),
        *(
            RowCheck(
                column,
                "content_not_above_value",
                content > value,
                "the declared metal content cannot exceed the line's customs_value_usd",
                detail=pl.concat_str(pl.lit("customs_value_usd "), value.cast(pl.Utf8)),
            )
            for column, content in (("steel_content_value_usd", steel), ("aluminum_content_value_usd", aluminum))
        ),
        RowCheck(
            "steel_content_value_usd,aluminum_content_value_usd",
            "content_not_above_value",
            (steel <= value) & (aluminum <= value) & (steel + aluminum > value),
            "steel and aluminum content together cannot exceed the line's customs_value_usd",
            value=pl.concat_str(pl.col("steel_content_value_usd"), pl.col("aluminum_content_value_usd"), separator=","),
            detail=pl.concat_str(pl.lit("customs_value_usd "), value.cast(pl.Utf8)),
        ),
    ]


def stage_customs_lines(passed: pl.DataFrame) -> pl.DataFrame:
    """Parsed rows that failed no check → `stg_customs_lines` (typed, normalised), in line
    order (`transforms.vocabulary.LINE_GRAIN`)."""
    # (the loader parses the rows in line order, `in_line_order_parts`: the usual frame is
    # returned as is, not sorted again)
    return sorted_by(passed, ["_entry_number", "_line_number"]).select(
        pl.col("_entry_number").alias("entry_number"),
        pl.col("_line_number").cast(pl.Int64).alias("line_number"),
        pl.col("_entry_date").alias("entry_date"),
        pl.col("_entry_date").dt.strftime("%Y-%m").alias("month"),
        pl.col("_hts_code").alias("hts_code"),
        pl.col("_country_of_origin").alias("country_of_origin"),
        pl.col("_customs_value_usd").cast(MONEY).alias("customs_value_usd"),
        pl.col("_quantity").cast(QUANTITY).alias("quantity"),
        pl.col("_quantity_unit").alias("quantity_unit"),
        pl.col("_transport_mode").alias("transport_mode"),
        pl.col("_port_code").alias("port_code"),
        pl.col("_importer_id").alias("importer_id"),
        *(pl.col(f"_{c}").cast(MONEY).alias(c) for c in _OPTIONAL_MONEY_COLUMNS),
        pl.col("_export_date").alias("export_date"),
        pl.col("_declared_headings").alias("declared_headings"),
        pl.col("_declared_heading_duties_usd").list.join(LIST_SEPARATOR).alias("declared_heading_duties_usd"),
        pl.col(SOURCE_ROW).cast(pl.Int64),
    )


def month_total_problems(stg: pl.DataFrame, columns: Sequence[str]) -> list[str]:
    """The months of staged rows whose sum of a column is above MAX_MONTH_TOTAL (the per-month
    value bound), one sentence each; empty when every month is within it. Sums are exact
    (Decimal(38, scale)), so the check itself cannot overflow."""
    present = [c for c in columns if c in stg.columns]
    if not present or stg.height == 0 or "month" not in stg.columns:
        return []
    sums = (
        stg.group_by("month")
        .agg(pl.len().alias("rows"), *(pl.col(c).cast(pl.Decimal(38, 10)).sum().alias(c) for c in present))
        .sort("month")
    )
    problems = []
    for row in sums.iter_rows(named=True):
        for column in present:
            total = row[column]
            if total is not None and total > MAX_MONTH_TOTAL:
                problems.append(
                    f"{row['month']}: the {row['rows']:,} rows' {column} add up to {total.normalize():,f}, "
                    f"above the per-month limit of {MAX_MONTH_TOTAL:,} (10^{MAX_MONTH_TOTAL.adjusted()}) "
                    "that keeps every aggregate within DECIMAL(18,2); split the file or check its values"
                )
    return problems

