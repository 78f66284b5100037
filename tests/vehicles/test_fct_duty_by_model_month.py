"""fct_duty_by_model_month: month × make × model aggregates of fct_vehicle_duty."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from schemas.fct_duty_by_model_month import SCHEMA
from transforms.fct_duty_by_model_month import build_fct_duty_by_model_month

MONEY = pl.Decimal(18, 2)


def test_golden_aggregate():
    D = Decimal
    vehicles = pl.DataFrame(
        {
            "month": ["2025-10", "2025-10", "2025-10", "2025-11"],
            "make": ["Toyota", "Toyota", "Toyota", "Toyota"],
            "model": ["RAV4", "RAV4", "RAV4", "RAV4"],
            "customs_value_usd": [D("30000.00"), D("25000.00"), D("25000.00"), D("20000.00")],
            "duty_usd": [D("4500.00"), D("3750.00"), D("3750.01"), D("3000.00")],
            "fees_usd": [D("141.42"), D("117.85"), D("117.85"), D("25.00")],
            "total_cost_usd": [D("4641.42"), D("3867.85"), D("3867.86"), D("3025.00")],
            "msrp_usd": [D("37000.00"), D("31000.00"), D("31000.00"), D("0.00")],
            "classification_ok": [True, False, True, True],
            "maker_mismatch": [False, None, True, False],
        },
        schema_overrides={c: MONEY for c in ["customs_value_usd", "duty_usd", "fees_usd", "total_cost_usd", "msrp_usd"]},
    )
    out = SCHEMA.validate(build_fct_duty_by_model_month(vehicles))
    assert out.rows(named=True) == [
        {
            "month": "2025-10", "make": "Toyota", "model": "RAV4", "vehicles": 3,
            "customs_value_usd": D("80000.00"),
            "total_duty_usd": D("12000.01"),
            "total_fees_usd": D("377.12"),
            "total_cost_usd": D("12377.13"),
            "msrp_usd": D("99000.00"),
            "avg_duty_per_vehicle_usd": D("4000.00"),  # 12,000.01 / 3 = 4,000.0033
            "avg_cost_per_vehicle_usd": D("4125.71"),  # 12,377.13 / 3 = 4,125.71
            "effective_duty_rate": D("0.150000"),  # 12,000.01 / 80,000 = 0.15000012
            "duty_share_of_msrp": D("0.121212"),  # 12,000.01 / 99,000 = 0.1212122
            "misclassified_vehicles": 1,
            "maker_mismatch_vehicles": 1,
        },
        {
            "month": "2025-11", "make": "Toyota", "model": "RAV4", "vehicles": 1,
            "customs_value_usd": D("20000.00"),
            "total_duty_usd": D("3000.00"),
            "total_fees_usd": D("25.00"),
            "total_cost_usd": D("3025.00"),
            "msrp_usd": D("0.00"),
            "avg_duty_per_vehicle_usd": D("3000.00"),
            "avg_cost_per_vehicle_usd": D("3025.00"),
            "effective_duty_rate": D("0.150000"),
            "duty_share_of_msrp": None,  # MSRP 0: no share
            "misclassified_vehicles": 0,
            "maker_mismatch_vehicles": 0,
        },
    ]
