"""Vehicle identification numbers (49 CFR part 565): check digit and maker from the WMI.

Pure, vectorised Polars: every rule is a column expression over the 17 character positions
(transliteration table × position weights), never a Python loop over rows.

- A VIN has 17 characters from `0-9` and `A-Z` without `I`, `O` and `Q` (565.13(b)).
- Position 9 is the check digit (565.15): transliterate each character (letters per table
  565.15(b)), multiply by the position weight, sum, take the remainder mod 11; 10 is written
  `X`.
- Positions 1-3 are the world manufacturer identifier (WMI); when the third character is `9`
  the maker builds fewer than 1,000 vehicles a year and positions 12-14 complete a 6-character
  WMI (565.15(a)); the vPIC table lists those as 6 characters.
"""

from __future__ import annotations

import polars as pl

VIN_LENGTH = 17
CHECK_DIGIT_POSITION = 9  # 1-based
VIN_RE = r"^[A-HJ-NPR-Z0-9]{17}$"
FORBIDDEN_LETTERS_RE = r"[IOQ]"

TRANSLITERATION: dict[str, int] = {
    **{str(digit): digit for digit in range(10)},
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}  # fmt: skip
WEIGHTS: tuple[int, ...] = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def is_well_formed(vin: pl.Expr) -> pl.Expr:
    """17 characters, all from the VIN alphabet (null stays null)."""
    return vin.str.contains(VIN_RE)


def check_digit(vin: pl.Expr) -> pl.Expr:
    """The check digit the other 16 characters call for ('0'-'9' or 'X'); null unless the VIN
    is well formed."""
    products = [
        vin.str.slice(position, 1).replace_strict(TRANSLITERATION, default=None, return_dtype=pl.Int64)
        * weight
        for position, weight in enumerate(WEIGHTS)
        if weight != 0
    ]
    remainder = pl.sum_horizontal(products) % 11
    digit = pl.when(remainder == 10).then(pl.lit("X")).otherwise(remainder.cast(pl.Utf8))
    return pl.when(is_well_formed(vin)).then(digit)


def check_digit_ok(vin: pl.Expr) -> pl.Expr:
    """True when position 9 holds the computed check digit; null unless well formed."""
    return vin.str.slice(CHECK_DIGIT_POSITION - 1, 1) == check_digit(vin)


def wmi(vin: pl.Expr) -> pl.Expr:
    """The world manufacturer identifier: positions 1-3, or 1-3 + 12-14 when position 3 is 9."""
    return (
        pl.when(vin.str.slice(2, 1) == "9")
        .then(vin.str.slice(0, 3) + vin.str.slice(11, 3))
        .otherwise(vin.str.slice(0, 3))
    )


def make_key(name: pl.Expr) -> pl.Expr:
    """A maker name reduced for comparison: upper case, letters and digits only, first word
    (`Toyota`, `TOYOTA MOTOR CORPORATION` and `toyota motor mfg` all give `TOYOTA`)."""
    words = name.str.to_uppercase().str.replace_all(r"[^A-Z0-9]+", " ").str.strip_chars()
    return words.str.split(" ").list.first()


def with_maker_from_wmi(
    vehicles: pl.DataFrame, wmi_makers: pl.DataFrame, make_aliases: pl.DataFrame
) -> pl.DataFrame:
    """`vehicles` (needs `vin`, `make`) plus `wmi`, `maker_from_wmi` (the vPIC common name of
    the VIN's WMI, null when the WMI is not in the table) and `maker_mismatch` (true when the
    declared make, after brand aliases such as Lexus → Toyota, agrees with neither the WMI's
    common name nor its manufacturer name; null when the WMI is unknown). Same rows, same
    order.

    wmi_makers: `wmi`, `common_name`, `manufacturer_name` (data/reference/vpic).
    make_aliases: `make`, `maker` (data/vehicles/make_aliases.csv)."""
    makers = wmi_makers.select(
        pl.col("wmi").str.to_uppercase().alias("wmi"),
        pl.col("common_name").alias("maker_from_wmi"),
        make_key(pl.col("common_name")).alias("_common_key"),
        make_key(pl.col("manufacturer_name")).alias("_manufacturer_key"),
    ).unique("wmi", keep="first")
    aliases = make_aliases.select(
        make_key(pl.col("make")).alias("_declared_key"), make_key(pl.col("maker")).alias("_alias_key")
    ).unique("_declared_key", keep="first")
    declared = pl.coalesce("_alias_key", "_declared_key")
    agrees = (declared == pl.col("_common_key")) | (declared == pl.col("_manufacturer_key"))
    return (
        vehicles.with_columns(wmi=wmi(pl.col("vin")), _declared_key=make_key(pl.col("make")))
        .join(makers, on="wmi", how="left", maintain_order="left")
        .join(aliases, on="_declared_key", how="left", maintain_order="left")
        .with_columns(
            maker_mismatch=pl.when(pl.col("maker_from_wmi").is_not_null()).then(~agrees.fill_null(False))
        )
        .drop("_common_key", "_manufacturer_key", "_declared_key", "_alias_key")
    )
