"""Fixtures for the load tests: a tiny hand-built schedule and CSV writing helpers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from transforms.schedule import Schedule

FIXTURES = Path(__file__).parent / "fixtures"
RATE = pl.Decimal(38, 10)

HEADER = (
    "entry_number,line_number,entry_date,hts_code,country_of_origin,customs_value_usd,"
    "quantity,quantity_unit,transport_mode,port_code,importer_id,declared_duty_usd,"
    "steel_content_value_usd,aluminum_content_value_usd"
)
COLUMNS = HEADER.split(",")

# One good line, as text, to copy and spoil in tests.
GOOD_ROW = {
    "entry_number": "ABC-1234567-8",
    "line_number": "1",
    "entry_date": "2025-10-15",
    "hts_code": "8703.23.01.90",
    "country_of_origin": "JP",
    "customs_value_usd": "30000.00",
    "quantity": "1",
    "quantity_unit": "NO",
    "transport_mode": "vessel",
    "port_code": "2704",
    "importer_id": "IMP-001",
    "declared_duty_usd": "750.00",
    "steel_content_value_usd": "",
    "aluminum_content_value_usd": "",
}


def mfn_frame() -> pl.DataFrame:
    """Six real HTS8 lines of the USITC 2025 tariff database (chapters 40, 70, 84, 87)."""
    rows = [
        # hts8, text rate, type, ad valorem, specific, q1, q2
        ("87032301", "2.5%", "7", "0.025", "0", "NO", None),
        ("87043101", "25%", "7", "0.25", "0", "NO", None),
        ("40111010", "4%", "7", "0.04", "0", "NO", None),
        ("70052908", "18.7 cents/m2", "1", "0", "0.187", "M2", None),
        ("70049025", "0.7 cents/kg", "2", "0", "0.007", "M2", "KG"),
        ("84834070", "25 cents each + 3.9%", "4", "0.039", "0.25", "NO", None),
    ]
    return pl.DataFrame(
        {
            "hts8": [r[0] for r in rows],
            "mfn_text_rate": [r[1] for r in rows],
            "mfn_rate_type_code": [r[2] for r in rows],
            "mfn_ad_val_rate": [Decimal(r[3]) for r in rows],
            "mfn_specific_rate": [Decimal(r[4]) for r in rows],
            "mfn_other_rate": [Decimal(0) for _ in rows],
            "quantity_1_code": [r[5] for r in rows],
            "quantity_2_code": [r[6] for r in rows],
        },
        schema={
            "hts8": pl.Utf8,
            "mfn_text_rate": pl.Utf8,
            "mfn_rate_type_code": pl.Utf8,
            "mfn_ad_val_rate": RATE,
            "mfn_specific_rate": RATE,
            "mfn_other_rate": RATE,
            "quantity_1_code": pl.Utf8,
            "quantity_2_code": pl.Utf8,
        },
    )


@pytest.fixture(scope="session")
def schedule() -> Schedule:
    """A schedule with only an MFN table: the loader reads nothing else from it."""
    return Schedule(
        version="test",
        name="load-tests",
        source="tests/load/conftest.py",
        mfn=mfn_frame(),
        measures=pl.DataFrame(),
        scopes=pl.DataFrame(),
        fees=pl.DataFrame(),
    )


def write_rows(path: Path, rows: list[dict[str, str]], columns: list[str] = COLUMNS) -> Path:
    """Write text rows as a CSV with a header (quoting as needed); missing keys are empty."""
    pl.DataFrame(
        {c: [row.get(c, "") for row in rows] for c in columns},
        schema={c: pl.Utf8 for c in columns},
    ).write_csv(path)
    return path


@pytest.fixture
def good_csv() -> Path:
    return FIXTURES / "customs_good.csv"
