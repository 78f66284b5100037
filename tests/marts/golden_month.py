"""One hand-priced month of customs lines (June 2025, Japanese origin, shipped default
schedule) loaded through the real customs loader, shared by the golden-row tests of
fct_duty_lines and fct_duty_by_hs_month. The arithmetic of every amount is in the tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.inputs.customs import load_customs_lines
from tests.conftest import write_customs_csv
from transforms.fct_duty_lines import build_fct_duty_lines
from transforms.schedule import Schedule

CAR = "8703230190"  # passenger car, MFN 2.5%, Section 232 autos (note 33(b))
BRAKES = "8708305090"  # brake part, MFN 2.5%, Section 232 auto parts list (prefix 870830)
MOTORCYCLE = "8711406000"  # motorcycle, MFN 2.4%, outside every 232 list

ROWS = [
    # entry A, 2025-06-10, by vessel: a $30,000 car and a $10,000 brake part
    "GLD10000001,1,2025-06-10,8703.23.01.90,JP,30000.00,1,NO,vessel,2704,IMP-001,,,",
    "GLD10000001,2,2025-06-10,8708.30.50.90,JP,10000.00,1,NO,vessel,2704,IMP-001,,,",
    # entry B, 2025-06-20, by air: a $5,000 motorcycle (MPF at its minimum, no HMF)
    "GLD10000002,1,2025-06-20,8711.40.60.00,JP,5000.00,1,NO,air,2720,IMP-002,,,",
    # entry C, 2025-06-20, by vessel: a $20,000 car
    "GLD10000003,1,2025-06-20,8703.23.01.90,JP,20000.00,1,NO,vessel,2704,IMP-001,,,",
]


def golden_lines(tmp_path: Path, schedule: Schedule) -> pl.DataFrame:
    """fct_duty_lines of ROWS for 2025-06."""
    loaded = load_customs_lines(write_customs_csv(tmp_path / "customs.csv", ROWS), "2025-06", schedule)
    assert loaded.rejects.height == 0, loaded.rejects
    return build_fct_duty_lines(loaded.stg, schedule)
