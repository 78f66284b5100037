"""A tiny hand-written schedule for mechanics tests (not the legal facts: those are tested
against the shipped schedule in test_legal_cases.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from transforms.schedule import MEASURE_COLUMNS, Schedule
from transforms.vocabulary import MONEY, RATE


def measure(measure_id: str, layer: str, scope_id: str, valid_from: str, rate: str, *,
            shape: str = "additive", origin: str = "*", valid_to: str | None = None,
            heading: str = "9903.00.00", cap_heading: str | None = None,
            excluded_by: str = "", component: str = "section_232", program: str = "section_232",
            priority: int = 0, confidence: str = "confirmed") -> dict:
    return {
        "measure_id": measure_id, "program": program, "component": component, "layer": layer,
        "scope_id": scope_id, "origin": origin, "valid_from": dt.date.fromisoformat(valid_from),
        "valid_to": dt.date.fromisoformat(valid_to) if valid_to else None, "shape": shape,
        "rate": Decimal(rate), "heading": heading, "heading_at_or_above_cap": cap_heading,
        "excluded_by": excluded_by, "priority": priority, "confidence": confidence,
        "confidence_note": "", "legal_source": "test", "description": measure_id,
    }


def tiny_schedule(measures: list[dict], scopes: dict[str, list[str]],
                  mfn: dict[str, tuple[str, str, str, str]]) -> Schedule:
    """mfn: hts8 -> (text, type code, ad valorem rate, specific rate)."""
    mfn_frame = pl.DataFrame(
        {
            "hts8": list(mfn),
            "mfn_text_rate": [v[0] for v in mfn.values()],
            "mfn_rate_type_code": [v[1] for v in mfn.values()],
            "mfn_ad_val_rate": [Decimal(v[2]) for v in mfn.values()],
            "mfn_specific_rate": [Decimal(v[3]) for v in mfn.values()],
            "mfn_other_rate": [Decimal(0) for _ in mfn],
            "quantity_1_code": ["NO" for _ in mfn],
            "quantity_2_code": [None for _ in mfn],
        },
        schema_overrides={"mfn_ad_val_rate": RATE, "mfn_specific_rate": RATE, "mfn_other_rate": RATE,
                          "quantity_2_code": pl.Utf8},
    )
    scope_frame = pl.DataFrame(
        [{"scope_id": s, "hts_prefix": p, "source": "test"} for s, ps in scopes.items() for p in ps],
        schema={"scope_id": pl.Utf8, "hts_prefix": pl.Utf8, "source": pl.Utf8},
    )
    fees = pl.DataFrame(
        schema={"fee_id": pl.Utf8, "valid_from": pl.Date, "valid_to": pl.Date, "rate": RATE,
                "min_usd": MONEY, "max_usd": MONEY, "transport_modes": pl.Utf8,
                "confidence": pl.Utf8, "confidence_note": pl.Utf8, "legal_source": pl.Utf8}
    )
    return Schedule(
        version="test", name="tiny", source="tests",
        mfn=mfn_frame, measures=pl.DataFrame(measures, schema=MEASURE_COLUMNS),
        scopes=scope_frame, fees=fees,
    )


def lines(*rows: tuple[str, str, str, str, str | None]) -> pl.DataFrame:
    """rows of (hts_code, origin, entry_date, value, quantity)."""
    return pl.DataFrame(
        {
            "line_number": list(range(1, len(rows) + 1)),
            "hts_code": [r[0] for r in rows],
            "country_of_origin": [r[1] for r in rows],
            "entry_date": [dt.date.fromisoformat(r[2]) for r in rows],
            "customs_value_usd": [Decimal(r[3]) for r in rows],
            "quantity": [Decimal(r[4]) if r[4] is not None else None for r in rows],
        },
        schema_overrides={"customs_value_usd": MONEY, "quantity": RATE},
    )
