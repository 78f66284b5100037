"""A small hand-written schedule shaped like the Japan facts of tariff-rules.md (232 autos
+25% from 2025-04-03, the Japan deal 15% inclusive from 2025-09-16, the IEEPA baseline +10%
from 2025-04-05 and the Japan reciprocal 15% inclusive from 2025-08-07, both ending
2026-02-24, 232 goods excluded from IEEPA, 232 medium/heavy truck parts +25% from 2025-11-01
with no Japan cap), with the real fee rows; shared by the
reconciliation and refund-ledger tests. Priced through the real engine and fee transform."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from tests.engine.tiny_schedule import measure, tiny_schedule
from tests.fees.fee_schedule import with_fees
from transforms.fct_duty_lines import build_fct_duty_lines
from transforms.vocabulary import MONEY, RATE

SCHEDULE = with_fees(tiny_schedule(
    [
        measure("autos", "s232", "cars", "2025-04-03", "0.25", heading="9903.94.01"),
        measure("autos_jp", "s232", "cars", "2025-09-16", "0.15", origin="JP", shape="inclusive_total",
                heading="9903.94.41", cap_heading="9903.94.40"),
        measure("mhd_parts", "s232", "mhd_parts", "2025-11-01", "0.25", heading="9903.74.08"),
        measure("recip", "ieepa", "*", "2025-04-05", "0.10", valid_to="2026-02-24", heading="9903.01.25",
                excluded_by="autos autos_jp mhd_parts", component="ieepa", program="ieepa"),
        measure("recip_jp", "ieepa", "*", "2025-08-07", "0.15", valid_to="2026-02-24", origin="JP",
                shape="inclusive_total", heading="9903.02.73", cap_heading="9903.02.72",
                excluded_by="autos autos_jp mhd_parts", component="ieepa", program="ieepa"),
    ],
    {"cars": ["87032301"], "mhd_parts": ["84831010"]},
    {
        "87032301": ("2.5%", "7", "0.025", "0"),
        "87114030": ("2.4%", "7", "0.024", "0"),
        "87112000": ("Free", "0", "0", "0"),
        "87043101": ("25%", "7", "0.25", "0"),
        "84831010": ("2.5%", "7", "0.025", "0"),
    },
))

CAR = "8703230190"
MOTORCYCLE = "8711403000"
SMALL_MOTORCYCLE = "8711200090"
LIGHT_TRUCK = "8704310120"  # MFN 25%, outside the "cars" scope of this schedule
TRUCK_PART = "8483101050"  # MFN 2.5%, medium/heavy truck part: +25% from 2025-11-01, no Japan cap


def stg_lines(*rows: tuple) -> pl.DataFrame:
    """rows of (entry_number, line_number, entry_date, hts_code, value, declared or None,
    importer_id); Japanese origin, vessel, quantity 1."""
    dates = [dt.date.fromisoformat(r[2]) for r in rows]
    return pl.DataFrame(
        {
            "entry_number": [r[0] for r in rows],
            "line_number": [r[1] for r in rows],
            "entry_date": dates,
            "month": [d.strftime("%Y-%m") for d in dates],
            "hts_code": [r[3] for r in rows],
            "country_of_origin": ["JP" for _ in rows],
            "customs_value_usd": [Decimal(r[4]) for r in rows],
            "quantity": [Decimal(1) for _ in rows],
            "quantity_unit": ["NO" for _ in rows],
            "transport_mode": ["vessel" for _ in rows],
            "port_code": ["2704" for _ in rows],
            "importer_id": [r[6] for r in rows],
            "declared_duty_usd": [Decimal(r[5]) if r[5] is not None else None for r in rows],
        },
        schema_overrides={"line_number": pl.Int64, "customs_value_usd": MONEY, "quantity": RATE,
                          "declared_duty_usd": MONEY},
    )


def priced(*rows: tuple) -> pl.DataFrame:
    """fct_duty_lines of the rows under SCHEDULE."""
    return build_fct_duty_lines(stg_lines(*rows), SCHEDULE)
