"""The CAPE refund declaration of one importer, from the IEEPA refund ledger (pure Polars).

CBP's CAPE (Consolidated Administration and Processing of Entries, ACE Portal, opened
2026-04-20 for Phase 1: unliquidated entries and entries liquidated within the preceding 80
days) takes a CAPE Declaration as a CSV upload listing entry numbers only. The layout used
here, as published by CBP's "ACE Portal CAPE Declarations" quick reference guide and the
CSMS guidance of 2026-04-13 *as reported by secondary sources* (the upload template itself,
`ACEP_CapeEntryNumberUploadTemplate`, is downloadable only inside the ACE Portal and could
not be read here):

- one column, header `Entry Number` in cell A1;
- one entry number per row: 11 characters (filer code + 7 digits + check digit), no dashes;
- at most 9,999 entry numbers per declaration (more: further declarations);
- no other columns (CBP looks the rest up in ACE).

So the declaration holds nothing but entry numbers; the IEEPA duty per entry and the
liquidation status estimate go into the broker's worksheet beside it (`cape_worksheet`),
which lists every IEEPA entry of the importer, eligible or not, with the reason.
"""

from __future__ import annotations

import polars as pl

from transforms.vocabulary import MONEY

CAPE_HEADER = "Entry Number"
CAPE_MAX_ENTRIES = 9_999
CAPE_LAYOUT_NOTE = (
    "CAPE Declaration layout: one column 'Entry Number', 11-character entry numbers without "
    "dashes, at most 9,999 per file, per CBP's ACE Portal CAPE Declarations quick reference "
    "guide and CSMS guidance of 2026-04-13 as reported by secondary sources; the exact "
    "template (ACEP_CapeEntryNumberUploadTemplate, ACE Portal > CAPE > File Uploads) could "
    "not be confirmed: compare with it before uploading."
)
WORKSHEET_COLUMNS = [
    "entry_number",
    "importer_id",
    "entry_date",
    "month",
    "lines",
    "ieepa_duty_usd",
    "declared_ieepa_duty_usd",
    "ieepa_headings",
    "estimated_liquidation_date",
    "as_of_date",
    "refund_status",
    "cape_eligible",
    "cape_declaration",
    "refund_status_note",
]


def cape_worksheet(refunds: pl.DataFrame) -> pl.DataFrame:
    """One row per entry of `fct_ieepa_refunds` rows (one importer): the IEEPA duty summed
    over its lines (computed, and as declared where every line declared), its IEEPA headings,
    the liquidation estimate and CAPE eligibility (an entry's lines share its entry date, so
    they share one status), and `cape_declaration`, the number of the declaration file
    (1, 2, …; null when not eligible). Sorted by entry date, then entry number."""
    entries = (
        refunds.group_by("entry_number")
        .agg(
            importer_id=pl.col("importer_id").first(),
            entry_date=pl.col("entry_date").min(),
            month=pl.col("month").first(),
            lines=pl.len().cast(pl.Int64),
            ieepa_duty_usd=pl.col("ieepa_duty_usd").sum().cast(MONEY),
            declared_ieepa_duty_usd=pl.when(pl.col("declared_ieepa_duty_usd").is_null().any())
            .then(None)
            .otherwise(pl.col("declared_ieepa_duty_usd").sum())
            .cast(MONEY),
            ieepa_headings=pl.col("ieepa_headings").str.split(", ").explode(),
            estimated_liquidation_date=pl.col("estimated_liquidation_date").min(),
            as_of_date=pl.col("as_of_date").max(),
            refund_status=pl.col("refund_status").first(),
            cape_eligible=pl.col("cape_eligible").all(),
            refund_status_note=pl.col("refund_status_note").first(),
        )
        .with_columns(
            ieepa_headings=pl.col("ieepa_headings")
            .list.eval(pl.element().filter(pl.element().is_not_null() & (pl.element() != "")))
            .list.unique()
            .list.sort()
            .list.join(", ")
        )
        .sort("entry_date", "entry_number")
    )
    order = pl.when(pl.col("cape_eligible")).then(pl.col("cape_eligible").cum_sum())
    return entries.with_columns(cape_declaration=((order - 1) // CAPE_MAX_ENTRIES + 1).cast(pl.Int64)).select(
        WORKSHEET_COLUMNS
    )


def cape_declarations(worksheet: pl.DataFrame) -> list[pl.DataFrame]:
    """The CAPE Declaration files' content: one frame per declaration, the single column
    `Entry Number`, at most CAPE_MAX_ENTRIES rows each."""
    eligible = worksheet.filter(pl.col("cape_declaration").is_not_null())
    return [
        part.select(pl.col("entry_number").alias(CAPE_HEADER))
        for _, part in eligible.group_by("cape_declaration", maintain_order=True)
    ]
