"""The CAPE declaration and worksheet (transforms/cape_claims.py): golden rows from a tiny
ledger, and the 9,999-entry limit per declaration."""

import datetime as dt
from decimal import Decimal

import polars as pl

from transforms.cape_claims import CAPE_HEADER, CAPE_MAX_ENTRIES, cape_declarations, cape_worksheet
from transforms.vocabulary import MONEY

D = Decimal


def ledger(rows: list[tuple]) -> pl.DataFrame:
    """rows of (entry, line, entry_date, ieepa, declared_ieepa or None, headings, status, eligible)."""
    return pl.DataFrame(
        [
            {
                "entry_number": r[0], "line_number": r[1], "entry_date": dt.date.fromisoformat(r[2]),
                "month": r[2][:7], "importer_id": "IMP1", "ieepa_duty_usd": D(r[3]),
                "declared_ieepa_duty_usd": D(r[4]) if r[4] is not None else None, "ieepa_headings": r[5],
                "estimated_liquidation_date": dt.date.fromisoformat(r[2]) + dt.timedelta(days=314),
                "as_of_date": dt.date(2026, 5, 1), "refund_status": r[6], "cape_eligible": r[7],
                "refund_status_note": f"note {r[6]}",
            }
            for r in rows
        ],
        schema_overrides={"ieepa_duty_usd": MONEY, "declared_ieepa_duty_usd": MONEY},
    )


def test_worksheet_sums_each_entry_and_declares_the_eligible_ones():
    sheet = cape_worksheet(ledger([
        # entry A: two lines, 100.00 + 1,260.00 = 1,360.00 of IEEPA; one line declared nothing,
        # so the entry's declared IEEPA is unknown
        ("JPN00000011", 1, "2025-09-01", "100.00", "100.00", "9903.01.25", "likely_unliquidated", True),
        ("JPN00000011", 2, "2025-09-01", "1260.00", None, "9903.02.73", "likely_unliquidated", True),
        # entry B: earlier, finally liquidated: listed, not declared
        ("JPN00000029", 1, "2025-04-05", "50.00", "50.00", "9903.01.25", "likely_finally_liquidated", False),
        # entry C: within 80 days of liquidation
        ("JPN00000037", 1, "2025-06-01", "1000.00", "0.00", "9903.01.25", "likely_within_80_days_of_liquidation", True),
    ]))
    assert sheet.select("entry_number", "lines", "ieepa_duty_usd", "declared_ieepa_duty_usd", "ieepa_headings",
                        "cape_eligible", "cape_declaration").rows() == [
        ("JPN00000029", 1, D("50.00"), D("50.00"), "9903.01.25", False, None),
        ("JPN00000037", 1, D("1000.00"), D("0.00"), "9903.01.25", True, 1),
        ("JPN00000011", 2, D("1360.00"), None, "9903.01.25, 9903.02.73", True, 1),
    ]
    [declaration] = cape_declarations(sheet)
    assert declaration.columns == [CAPE_HEADER] == ["Entry Number"]
    assert declaration[CAPE_HEADER].to_list() == ["JPN00000037", "JPN00000011"]


def test_more_than_9999_eligible_entries_go_to_further_declarations():
    n = CAPE_MAX_ENTRIES + 2
    sheet = cape_worksheet(ledger([
        (f"JPN{i:08d}", 1, "2025-09-01", "1.00", None, "9903.02.73", "likely_unliquidated", True) for i in range(n)
    ]))
    parts = cape_declarations(sheet)
    assert [p.height for p in parts] == [9_999, 2]
    assert pl.concat(parts)[CAPE_HEADER].n_unique() == n
