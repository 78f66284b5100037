"""Small hand-made inputs: mart frames with the published dtypes (for publish tests that
must not depend on the engine) and customs CSV rows (header: tests/conftest.py)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from flows.warehouse.journal import RunRecord, utc_now

MONEY = pl.Decimal(18, 2)
RATE = pl.Decimal(18, 6)

# Japanese passenger car, HTS 8703.23.01.90, value $30,000.00 (tariff-rules.md worked examples)
CAR_MARCH = "ABC12345678,1,2025-03-15,8703.23.01.90,JP,30000.00,1,NO,vessel,2704,IMP-001,,,"
CAR_JUNE = "ABC22345678,1,2025-06-10,8703.23.01.90,JP,30000.00,1,NO,vessel,2704,IMP-001,,,"
CAR_SEPT = "ABC32345678,1,2025-09-16,8703.23.01.90,JP,30000.00,1,NO,vessel,2704,IMP-001,,,"
CAR_JUNE_2 = "ABC42345678,1,2025-06-20,8703.23.01.90,JP,30000.00,1,NO,vessel,2704,IMP-001,,,"
BAD_JUNE = "ABC52345678,1,2025-06-21,8703.23.01.90,XZ,30000.00,1,NO,vessel,2704,IMP-001,,,"  # no such country

SUMMED = [
    "customs_value_usd", "mfn_duty_usd", "section_232_duty_usd", "ieepa_duty_usd",
    "other_duty_usd", "total_duty_usd", "mpf_usd", "hmf_usd", "total_cost_usd",
]


def by_hs_month(month: str, rows: list[tuple[str, int, str, str]]) -> pl.DataFrame:
    """fct_duty_by_hs_month rows of (hts_code, line_count, customs value, MFN duty); the MFN
    duty is the only duty, no fees (so total duty = total cost = MFN duty)."""
    frame = pl.DataFrame(
        {
            "month": [month] * len(rows),
            "hts_code": [r[0] for r in rows],
            "country_of_origin": ["JP"] * len(rows),
            "line_count": [r[1] for r in rows],
            "customs_value_usd": [Decimal(r[2]) for r in rows],
            "mfn_duty_usd": [Decimal(r[3]) for r in rows],
        },
        schema_overrides={"line_count": pl.Int64, "customs_value_usd": MONEY, "mfn_duty_usd": MONEY},
    )
    zero = pl.lit(Decimal("0.00"), dtype=MONEY)
    return frame.with_columns(
        section_232_duty_usd=zero, ieepa_duty_usd=zero, other_duty_usd=zero,
        total_duty_usd=pl.col("mfn_duty_usd"), mpf_usd=zero, hmf_usd=zero,
        total_cost_usd=pl.col("mfn_duty_usd"),
        effective_duty_rate=(pl.col("mfn_duty_usd").cast(pl.Decimal(38, 10))
                             / pl.col("customs_value_usd").cast(pl.Decimal(38, 10))).round(6).cast(RATE),
    ).select(
        "month", "hts_code", "country_of_origin", "line_count", *SUMMED, "effective_duty_rate"
    )


def rejects(run_id: str, rows: list[tuple[int, str, str, str | None]], source: str = "in.csv") -> pl.DataFrame:
    """rejects rows of (row_number, column, check, value)."""
    return pl.DataFrame(
        {
            "source": [source] * len(rows),
            "row_number": [r[0] for r in rows],
            "column": [r[1] for r in rows],
            "check": [r[2] for r in rows],
            "value": [r[3] for r in rows],
            "run_id": [run_id] * len(rows),
        },
        schema={"source": pl.Utf8, "row_number": pl.Int64, "column": pl.Utf8, "check": pl.Utf8,
                "value": pl.Utf8, "run_id": pl.Utf8},
    )


def run_record(run_id: str, month: str, status: str = "success") -> RunRecord:
    now = utc_now()
    return RunRecord(run_id=run_id, month=month, started_at=now, finished_at=now, status=status,
                     rows_in=3, rows_rejected=0, rows_published=3, schedule_version="test")
