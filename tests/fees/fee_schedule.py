"""Fee rows with the real MPF bounds of /work/shared/tariff-rules.md ("Fees per formal entry"),
copied here by hand so the tests do not depend on the shipped schedule files:

- MPF 0.3464%: FY2024 (2023-10-01 .. 2024-09-30) $31.67 - $614.35; FY2025 (from 2024-10-01)
  $32.71 - $634.62 (89 FR 59126); FY2026 (from 2025-10-01) $33.58 - $651.50 (CBP Dec. 25-10);
  FY2027 (from 2026-10-01) UNCONFIRMED: FY2026 carried forward.
- HMF 0.125% of value, vessel only, no bounds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import polars as pl

from tests.engine.tiny_schedule import tiny_schedule
from transforms.schedule import Schedule
from transforms.vocabulary import MONEY, RATE

FEE_SCHEMA = {
    "fee_id": pl.Utf8, "valid_from": pl.Date, "valid_to": pl.Date, "rate": RATE,
    "min_usd": MONEY, "max_usd": MONEY, "transport_modes": pl.Utf8,
    "confidence": pl.Utf8, "confidence_note": pl.Utf8, "legal_source": pl.Utf8,
}


def _row(fee_id, valid_from, valid_to, rate, lo, hi, modes, confidence="confirmed", note=""):
    return {
        "fee_id": fee_id,
        "valid_from": dt.date.fromisoformat(valid_from),
        "valid_to": dt.date.fromisoformat(valid_to) if valid_to else None,
        "rate": Decimal(rate),
        "min_usd": Decimal(lo) if lo else None,
        "max_usd": Decimal(hi) if hi else None,
        "transport_modes": modes,
        "confidence": confidence,
        "confidence_note": note,
        "legal_source": "tests",
    }


FEES = pl.DataFrame(
    [
        _row("mpf", "2023-10-01", "2024-10-01", "0.003464", "31.67", "614.35", "*"),
        _row("mpf", "2024-10-01", "2025-10-01", "0.003464", "32.71", "634.62", "*"),
        _row("mpf", "2025-10-01", "2026-10-01", "0.003464", "33.58", "651.50", "*"),
        _row("mpf", "2026-10-01", None, "0.003464", "33.58", "651.50", "*", "unconfirmed",
             "FY2027 bounds not yet published; FY2026 carried forward"),
        _row("hmf", "2023-10-01", None, "0.00125", None, None, "vessel"),
    ],
    schema=FEE_SCHEMA,
)


def empty_schedule() -> Schedule:
    """A schedule with only the fee rows (no MFN rates, measures or scopes)."""
    return replace(tiny_schedule([], {}, {}), source="tests/fees", fees=FEES)


def with_fees(schedule: Schedule) -> Schedule:
    return replace(schedule, fees=FEES)


def fee_lines(*rows: tuple[str, int, str, str, str], total_duty: str = "0.00") -> pl.DataFrame:
    """rows of (entry_number, line_number, entry_date, customs_value_usd, transport_mode);
    every line's total_duty_usd is `total_duty`."""
    return pl.DataFrame(
        {
            "entry_number": [r[0] for r in rows],
            "line_number": [r[1] for r in rows],
            "entry_date": [dt.date.fromisoformat(r[2]) for r in rows],
            "customs_value_usd": [Decimal(r[3]) for r in rows],
            "transport_mode": [r[4] for r in rows],
            "total_duty_usd": [Decimal(total_duty) for _ in rows],
        },
        schema_overrides={"customs_value_usd": MONEY, "total_duty_usd": MONEY,
                          "line_number": pl.Int64},
    )
