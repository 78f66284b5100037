"""The column names of the customs entry lines contract ("Input: customs entry lines" in the
README): the columns a file must have, and the optional ones the loader reads when present.

Plain names, no dependencies: the staging transform (transforms/stg_customs_lines.py), the
column maps (schemas/customs_map.py), the raw contract (schemas/raw_customs_lines.py) and the
loader import them from here, so code that needs only the names (`quote`'s origin check) does
not import pandera with the contract.
"""

from __future__ import annotations

REQUIRED_COLUMNS: tuple[str, ...] = (
    "entry_number",
    "line_number",
    "entry_date",
    "hts_code",
    "country_of_origin",
    "customs_value_usd",
    "quantity",
    "quantity_unit",
    "transport_mode",
    "port_code",
    "importer_id",
)
OPTIONAL_MONEY_COLUMNS: tuple[str, ...] = (
    "declared_duty_usd",
    "steel_content_value_usd",
    "aluminum_content_value_usd",
)
OPTIONAL_COLUMNS: tuple[str, ...] = (
    *OPTIONAL_MONEY_COLUMNS,
    # the date of exportation (CBP Form 7501 block 11), YYYY-MM-DD
    "export_date",
    # every chapter 99 heading the line declared, `;`-separated (9903.94.05;9903.01.25)
    "declared_headings",
)
# optional text column beside declared_headings: the declared duty of each heading,
# ';'-separated in the same order (what an ACE ES-003 export reports per chapter 99 row)
OPTIONAL_TEXT_COLUMNS: tuple[str, ...] = ("declared_heading_duties_usd",)
