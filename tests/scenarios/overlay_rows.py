"""Build overlay frames for tests the way flows/inputs/scenarios.py does from TOML tables."""

from __future__ import annotations

import datetime as dt

import polars as pl

from flows.inputs.scenarios import overlay_frame


def overlay(*tables: dict) -> pl.DataFrame:
    """tables: dicts as TOML would give them (dates may be written as YYYY-MM-DD strings)."""
    converted = []
    for table in tables:
        row = dict(table)
        for key in ("effective_date", "valid_to"):
            if isinstance(row.get(key), str) and row[key]:
                row[key] = dt.date.fromisoformat(row[key])
        converted.append(row)
    problems: list[str] = []
    frame = overlay_frame(converted, problems)
    assert not problems, problems
    return frame
